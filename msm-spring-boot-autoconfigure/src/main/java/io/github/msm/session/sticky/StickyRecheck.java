package io.github.msm.session.sticky;

import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.github.msm.session.StickyAccess;
import io.github.msm.session.StickyAccess.LocalCopy;

/**
 * Ids of local copies held when a node went down or came back: their memcached copy
 * (primary or backup) may be gone, so their next request reads memcached once, which
 * moves, restores or re-replicates them as in non-sticky mode. Without this, a session
 * that is only read would live on a dead or emptied node until it changes, and a second
 * failure (or its owner's stop) would lose it.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class StickyRecheck {

	private final Set<String> ids = ConcurrentHashMap.newKeySet();

	private final StickyAccess access;

	StickyRecheck(StickyAccess access) {
		this.access = access;
	}

	/** Marks the given ids (those held now), when a node went down or came back. */
	void markAll(Collection<String> held) {
		this.ids.addAll(held);
	}

	/**
	 * Whether a local copy is to be read from memcached now (and no longer marked). Not
	 * while changes of it are queued (their write moves it) nor while no node is up
	 * (memcached has nothing better to offer).
	 */
	boolean take(String id, LocalCopy copy) {
		if (this.ids.isEmpty() || copy.isPending() || this.access.availability().available().isEmpty()) {
			return false;
		}
		return this.ids.remove(id);
	}

	/** Forgets marked ids no longer held. */
	void retainOnly(Collection<String> held) {
		if (!this.ids.isEmpty()) {
			this.ids.retainAll(held);
		}
	}

}
