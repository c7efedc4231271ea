package io.github.msm.session;

import java.time.Duration;
import java.util.Map;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.github.msm.session.SessionCodec.Data;
import org.jspecify.annotations.Nullable;

/**
 * Sessions kept in this server's memory while no memcached node is up (msm #49), so that
 * requests still succeed; each is moved to a node, under a new id, at its first access
 * once one is up again.
 *
 * <p>
 * Bounded: at most {@value #MAX_SESSIONS} sessions, each dropped after the default
 * max-inactive interval without access. Sessions are kept in their stored form, so a
 * request never shares an object with another one.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class LocalSessions {

	static final int MAX_SESSIONS = 10_000;

	private final Cache<String, Data> sessions;

	/**
	 * The attributes a session kept here under its node id had when it was read from
	 * memcached, for a session saved while no node was up: what changed since is its
	 * change.
	 */
	private final Cache<String, Map<String, byte[]>> basedOn = Caffeine.newBuilder()
		.maximumSize(MAX_SESSIONS)
		.expireAfterWrite(Duration.ofDays(1))
		.build();

	/** Local ids moved to a node, for requests still carrying the local id. */
	private final Cache<String, String> attached = Caffeine.newBuilder()
		.maximumSize(MAX_SESSIONS)
		.expireAfterWrite(Duration.ofMinutes(5))
		.build();

	LocalSessions(Duration idle) {
		Duration expiry = (idle.isZero() || idle.isNegative() || idle.compareTo(Duration.ofDays(1)) > 0)
				? Duration.ofDays(1) : idle;
		this.sessions = Caffeine.newBuilder().maximumSize(MAX_SESSIONS).expireAfterAccess(expiry).build();
	}

	@Nullable StoredSession find(String id) {
		Data data = this.sessions.getIfPresent(id);
		return (data != null) ? new StoredSession(data, 0, data.access()) : null;
	}

	/**
	 * Applies a request's changes on top of what is kept, atomically per session.
	 * @param changes the changes
	 * @param planner plans the new version as it would be stored in memcached
	 * @return what is kept now
	 */
	StoredSession save(SessionChanges changes, VersionPlanner planner) {
		Data data = this.sessions.asMap().compute(changes.id(), (id, kept) -> planner
			.plan((kept != null) ? new StoredSession(kept, 0, kept.access()) : changes.base(), changes));
		return new StoredSession(data, 0, data.access());
	}

	void remove(String id) {
		this.sessions.invalidate(id);
		this.basedOn.invalidate(id);
	}

	/** Records the attributes a session kept here was read with, unless recorded. */
	void basedOn(String id, Map<String, byte[]> attributes) {
		this.basedOn.asMap().putIfAbsent(id, attributes);
	}

	/** The attributes a session kept here was read with; empty for a stand-in. */
	Map<String, byte[]> basedOn(String id) {
		Map<String, byte[]> attributes = this.basedOn.getIfPresent(id);
		return (attributes != null) ? attributes : Map.of();
	}

	/** Records that a local session now lives on a node under another id. */
	void attached(@Nullable String localId, String newId) {
		if (localId != null) {
			this.sessions.invalidate(localId);
			this.attached.put(localId, newId);
		}
	}

	/** The id a local session took on a node, if it moved there a moment ago. */
	@Nullable String attachedAs(String localId) {
		return this.attached.getIfPresent(localId);
	}

	long size() {
		return this.sessions.estimatedSize();
	}

}
