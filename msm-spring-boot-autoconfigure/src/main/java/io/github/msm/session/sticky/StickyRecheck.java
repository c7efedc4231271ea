package io.github.msm.session.sticky;

import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

import com.github.benmanes.caffeine.cache.Cache;
import io.github.msm.session.HeldCopyCheck;
import io.github.msm.session.LocalCopy;
import io.github.msm.session.StickyAccess;
import org.jspecify.annotations.Nullable;

/**
 * Ids of local copies held when a node went down or came back: their memcached copy
 * (primary or backup) may be gone, so their next request reads memcached once, which
 * moves, restores or re-replicates them as in non-sticky mode. Without this, a session
 * that is only read would live on a dead or emptied node until it changes, and a second
 * failure (or its owner's stop) would lose it. Marked copies that memcached lost
 * altogether are also written back by the sweeper, without waiting for a request.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class StickyRecheck {

	private final Set<String> ids = ConcurrentHashMap.newKeySet();

	/** Marked ids the sweeper has not looked at yet. */
	private final Set<String> sweep = ConcurrentHashMap.newKeySet();

	private final StickyAccess access;

	StickyRecheck(StickyAccess access) {
		this.access = access;
	}

	/** Marks the given ids (those held now), when a node went down or came back. */
	void markAll(Collection<String> held) {
		this.ids.addAll(held);
		this.sweep.addAll(held);
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

	/**
	 * Writes back the marked copies whose id memcached has nothing under (a node came back
	 * empty), without waiting for their next request: a session that is only read, or
	 * not requested for a while, must not live on this server alone. Each marked copy
	 * gets one look (again while memcached does not answer); the others (moved, changed,
	 * their backup to write again) wait for their request.
	 * @param held the local copies
	 * @param writeBack writes a held copy back (taking turns with the session's saves);
	 * answers the copy now held, the same one when memcached did not take it, {@code null}
	 * when a tombstone ended it
	 */
	void restoreLost(Cache<String, LocalCopy> held, UnaryOperator<@Nullable LocalCopy> writeBack) {
		Set<String> taken = Set.copyOf(this.sweep);
		this.sweep.removeAll(taken);
		for (String id : taken) {
			LocalCopy copy = held.policy().getIfPresentQuietly(id);
			if (copy == null || copy.isPending()) {
				// pending: its own write restores it
				continue;
			}
			HeldCopyCheck check = this.access.check(copy);
			LocalCopy restored = (check == HeldCopyCheck.ABSENT) ? writeBack.apply(copy) : copy;
			if (check == HeldCopyCheck.UNKNOWN || (check == HeldCopyCheck.ABSENT && restored == copy)) {
				this.sweep.add(id);
			}
			else if (restored != copy) {
				this.ids.remove(id);
			}
		}
	}

	/** Forgets marked ids no longer held. */
	void retainOnly(Collection<String> held) {
		if (!this.ids.isEmpty()) {
			this.ids.retainAll(held);
		}
		if (!this.sweep.isEmpty()) {
			this.sweep.retainAll(held);
		}
	}

}
