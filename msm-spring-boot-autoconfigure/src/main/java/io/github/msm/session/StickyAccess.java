package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import io.github.msm.session.SessionChanges.AccessChange;
import io.github.msm.session.SessionCodec.Access;
import io.github.msm.session.SessionCodec.Data;
import io.github.msm.session.SessionCodec.Validity;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeAvailability;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * What sticky mode ({@code io.github.msm.session.sticky}) needs from the store: local
 * copies of sessions as they are stored, fresh sessions built from them, and the same
 * writes, renames, failover and deletes as the {@link MemcachedSessionRepository} it
 * wraps. Sticky mode keeps its own state; everything that touches memcached goes
 * through here, so both modes store sessions identically and either can read what the
 * other wrote.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class StickyAccess {

	private final MemcachedSessionRepository repository;

	public StickyAccess(MemcachedSessionRepository repository) {
		Assert.notNull(repository, "repository must not be null");
		this.repository = repository;
	}

	/** The repository whose writes, reads and deletes sticky mode uses. */
	public MemcachedSessionRepository repository() {
		return this.repository;
	}

	/** Which nodes are up, as the store sees them. */
	public NodeAvailability availability() {
		return this.repository.store().availability();
	}

	/**
	 * Has {@code listener} run whenever a node goes down or comes back (restarted or
	 * not): then a local copy's primary or backup item may be gone or stale, and sticky
	 * mode, which otherwise never reads memcached for it, checks it at its next request.
	 * The listener runs while the node's state is locked: it must only take note.
	 * @param listener what to run
	 */
	public void onNodeChange(Runnable listener) {
		availability().addListener(new NodeAvailability.Listener() {

			@Override
			public void down(MemcachedNode node, String reason) {
				listener.run();
			}

			@Override
			public void up(MemcachedNode node, boolean restarted) {
				listener.run();
			}

		});
	}

	/** This server's route, {@code null} when it has none. */
	public @Nullable String route() {
		return this.repository.idFormat().route();
	}

	/**
	 * Whether an id may be served from this server's memory: it names a node of this
	 * store and carries this server's route.
	 * @param id an id from anywhere, including a hostile cookie
	 */
	public boolean isOwnId(String id) {
		return this.repository.idFormat().nodeOf(id) != null
				&& Objects.equals(SessionIdFormat.routeOf(id), route());
	}

	/**
	 * Whether an id is one of this store's, but carries another route (or none while this
	 * server has one): the session is taken over at this request.
	 */
	public boolean isOtherServersId(String id) {
		SessionIdFormat format = this.repository.idFormat();
		return (format.nodeOf(id) != null || format.isLocal(id)) && !Objects.equals(SessionIdFormat.routeOf(id), route());
	}

	/**
	 * Takes a session loaded from memcached over: it keeps its base and node and gets this
	 * server's route; its next save moves it to that id, replaces the old id with a
	 * tombstone, and the browser gets the new id.
	 * @return whether the id changed
	 */
	public boolean takeOver(MemcachedSession session) {
		String newId = this.repository.idFormat().withOwnRoute(session.getId());
		if (newId.equals(session.getId())) {
			return false;
		}
		session.takeOver(newId);
		return true;
	}

	/** The id the session is stored under, {@code null} for a session never stored. */
	public @Nullable String storedIdOf(MemcachedSession session) {
		return session.storedId();
	}

	/** The local copy of a session as it was read or saved; {@code null} when never stored. */
	public @Nullable LocalCopy copyOf(MemcachedSession session) {
		StoredSession base = session.base();
		return (base != null && Objects.equals(session.storedId(), session.getId()))
				? new LocalCopy(session.getId(), base, base, session.getLastAccessedTime()) : null;
	}

	/**
	 * A new session object from a local copy: each request gets its own, so concurrent
	 * requests of a session share nothing mutable (attributes are deserialized from the
	 * copy's bytes when the request reads them).
	 */
	public MemcachedSession open(LocalCopy copy) {
		RepositoryParts parts = this.repository.parts();
		MemcachedSession session = new MemcachedSession(copy.id, copy.local, this.repository.idFormat(), parts.codec,
				parts.lifetime);
		session.localAccess(copy.lastAccessedTime);
		return session;
	}

	/**
	 * What a save did.
	 * @param copy the local copy to keep; {@code null} when nothing may be kept (the
	 * change could not be stored, or the session was deleted meanwhile)
	 * @param created whether the save stored a new session
	 * @param queued whether a data change waits for {@link #write(LocalCopy)}
	 */
	public record Outcome(@Nullable LocalCopy copy, boolean created, boolean queued) {
	}

	/**
	 * Saves what a request did to its session. Attribute or interval changes are written
	 * at once (compare-and-set against the copy, so one operation), or with
	 * {@code queue} applied to the local copy only, for {@link #write(LocalCopy)} later; a
	 * rename and a new session are always written at once. A request that only read its
	 * session writes nothing, except about once per half interval the access (38 bytes)
	 * and the data item's new expiration ({@code touch}), so that the memcached copy
	 * outlives the local one.
	 * @param session the request's session
	 * @param current the local copy, {@code null} when there is none
	 * @param queue whether data changes may be queued
	 */
	public Outcome save(MemcachedSession session, @Nullable LocalCopy current, boolean queue) {
		SessionChanges changes = session.changes();
		if (current != null && changes.base() != null && current.written.version() > changes.base().version()
				&& current.id.equals(changes.storedId())) {
			// another request of the session saved since this one read: apply on top of it
			changes = changes.withBase(current.written);
		}
		if (!changes.changesData()) {
			// no local copy: evicted, or dropped because a write found the session gone;
			// the next request reads memcached again
			LocalCopy copy = current;
			AccessChange access = changes.access();
			if (copy == null || access == null) {
				return new Outcome(copy, false, false);
			}
			StoredSession written = refresh(copy.id, copy.written, access.lastAccessedTime());
			session.saved(changes, written);
			return new Outcome(new LocalCopy(copy.id, written, (copy.local == copy.written) ? written : copy.local,
					access.lastAccessedTime()), false, false);
		}
		if (queue && current != null && !changes.isNew() && !changes.isRenamed() && current.id.equals(changes.id())) {
			Data next = this.repository.parts().writer.planner().plan(current.local, changes);
			StoredSession local = new StoredSession(next, current.written.cas(), next.access());
			session.saved(changes, local);
			return new Outcome(new LocalCopy(current.id, current.written, local, session.getLastAccessedTime()), false,
					true);
		}
		StoredSession before = session.base();
		this.repository.save(session, changes);
		StoredSession after = session.base();
		if (after == null || after == before) {
			return new Outcome(null, false, false);
		}
		return new Outcome(new LocalCopy(session.getId(), after, after, session.getLastAccessedTime()),
				changes.isNew(), false);
	}

	/**
	 * Writes what a copy holds beyond what memcached holds (queued changes of several
	 * requests, the latest state wins), as one compare-and-set.
	 * @return the copy as now stored; {@code null} when it could not be stored (reported)
	 * or the session is gone
	 */
	public @Nullable LocalCopy write(LocalCopy copy) {
		if (!copy.isPending()) {
			return copy;
		}
		Data local = copy.local.data();
		Data written = copy.written.data();
		Map<String, byte[]> set = new LinkedHashMap<>();
		local.attributes().forEach((name, bytes) -> {
			if (!Arrays.equals(bytes, written.attributes().get(name))) {
				set.put(name, bytes);
			}
		});
		Set<String> removed = new LinkedHashSet<>(written.attributes().keySet());
		removed.removeAll(local.attributes().keySet());
		boolean intervalChanged = !local.maxInactiveInterval().equals(written.maxInactiveInterval());
		if (set.isEmpty() && removed.isEmpty() && !intervalChanged) {
			return new LocalCopy(copy.id, copy.written, copy.written, copy.lastAccessedTime);
		}
		SessionChanges changes = new SessionChanges(copy.id, copy.id, copy.written, written.creationTime(),
				Map.copyOf(set), Map.of(), Set.copyOf(removed), local.maxInactiveInterval(), intervalChanged,
				intervalChanged, new AccessChange(copy.lastAccessedTime, true));
		RepositoryParts parts = this.repository.parts();
		MemcachedSession carrier = new MemcachedSession(copy.id, copy.written, this.repository.idFormat(),
				parts.codec, parts.lifetime);
		this.repository.save(carrier, changes);
		StoredSession stored = carrier.base();
		if (stored == null || stored == copy.written) {
			return null;
		}
		return new LocalCopy(carrier.getId(), stored, stored, copy.lastAccessedTime);
	}

	/**
	 * Writes the access of a request that changed nothing, when the stored one no longer
	 * covers it: the 38-byte validity item (stamped with the version it extends) on the
	 * primary and the backup, and when the data item would otherwise expire too early a
	 * {@code touch} of it on both. With a slack of half the interval, that is at most once
	 * per half interval per session; nothing is awaited.
	 */
	private StoredSession refresh(String id, StoredSession written, Instant accessTime) {
		Access stored = written.access();
		if (SessionLifetime.covers(stored, accessTime)) {
			return written;
		}
		MemcachedNode node = this.repository.idFormat().nodeOf(id);
		if (node == null) {
			return written;
		}
		RepositoryParts parts = this.repository.parts();
		SessionLifetime lifetime = parts.lifetime;
		SessionKeys keys = this.repository.keys();
		Duration interval = written.data().maxInactiveInterval();
		Duration slack = SessionLifetime.neverExpires(interval) ? SessionLifetime.NEVER_EXPIRING_WINDOW
				: interval.dividedBy(2);
		Access next = lifetime.written(accessTime, slack, interval);
		MemcachedNode backupNode = parts.nodes.backupOf(node);
		if (lifetime.needsTouch(stored, interval, next)) {
			int expiration = lifetime.expiration(lifetime.dataLifetime(interval, next));
			this.repository.store().touchAsync(node, keys.data(id), expiration);
			if (backupNode != null) {
				this.repository.store().touchAsync(backupNode, SessionKeys.backup(keys.data(id)), expiration);
			}
		}
		else {
			next = new Access(next.lastAccessedTime(), next.slack(), stored.itemsExpireAt());
		}
		byte[] validity = SessionCodec.encodeValidity(new Validity(written.version(), next));
		int expiration = lifetime.expiration(lifetime.validityLifetime(interval, next));
		this.repository.store().setAsync(node, keys.validity(id), expiration, validity);
		if (backupNode != null) {
			parts.backup.set(id, backupNode, SessionKeys.backup(keys.validity(id)), expiration, validity);
		}
		this.repository.metrics().accessWritten();
		return new StoredSession(written.data(), written.cas(), next, 0);
	}

	/**
	 * Deletes an expired session's items from memcached, without waiting and without
	 * tombstones (nothing of this server can write it again: its copy is gone).
	 */
	public void expire(LocalCopy copy) {
		MemcachedNode node = this.repository.idFormat().nodeOf(copy.id);
		if (node != null) {
			this.repository.parts().remover.deleteAsync(copy.id, node);
		}
	}

	/**
	 * A session as this server holds it: what memcached holds (with its CAS token, so
	 * that the next write is one compare-and-set) and, when changes are queued, the
	 * newer local state. Immutable; requests get their own session objects from it.
	 */
	public static final class LocalCopy {

		final String id;

		final StoredSession written;

		final StoredSession local;

		final Instant lastAccessedTime;

		LocalCopy(String id, StoredSession written, StoredSession local, Instant lastAccessedTime) {
			this.id = id;
			this.written = written;
			this.local = local;
			this.lastAccessedTime = lastAccessedTime;
		}

		public String id() {
			return this.id;
		}

		/** The last access this server saw. */
		public Instant lastAccessedTime() {
			return this.lastAccessedTime;
		}

		public Duration maxInactiveInterval() {
			return this.local.data().maxInactiveInterval();
		}

		/** When the session expires here; {@code null} for never. */
		public @Nullable Instant expiresAt() {
			Duration interval = maxInactiveInterval();
			return SessionLifetime.neverExpires(interval) ? null : this.lastAccessedTime.plus(interval);
		}

		/** Whether changes wait to be written. */
		public boolean isPending() {
			return this.local != this.written;
		}

		/** Whether this copy's local state is the one of {@code other} (nothing queued since). */
		public boolean hasSameStateAs(LocalCopy other) {
			return this.local == other.local;
		}

		/**
		 * Of two copies of one session saved by concurrent requests, the one to keep: the
		 * newer state, with the later access.
		 */
		public LocalCopy newest(LocalCopy other) {
			boolean otherNewer = other.local.version() > this.local.version()
					|| (other.local.version() == this.local.version() && other.written.version() > this.written.version());
			LocalCopy kept = otherNewer ? other : this;
			Instant access = this.lastAccessedTime.isAfter(other.lastAccessedTime) ? this.lastAccessedTime
					: other.lastAccessedTime;
			return access.equals(kept.lastAccessedTime) ? kept
					: new LocalCopy(kept.id, kept.written, kept.local, access);
		}

		/** This copy with what a later write stored, keeping the local state queued since. */
		public LocalCopy withWritten(LocalCopy stored) {
			return new LocalCopy(this.id, stored.written, this.local, this.lastAccessedTime);
		}

	}

}
