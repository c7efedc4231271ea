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

	/**
	 * Whether the session's next save writes an access time the application set
	 * explicitly (also back in time): the local copy must then take it as given.
	 */
	public boolean hasExplicitAccess(MemcachedSession session) {
		return session.hasExplicitAccess();
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
	 * @param unwritten the changes memcached did not take (a node failed, hung or none
	 * was up); {@code null} when none: the caller keeps them pending with
	 * {@link #keepPending(MemcachedSession, SessionChanges, LocalCopy)}
	 */
	public record Outcome(@Nullable LocalCopy copy, boolean created, boolean queued,
			@Nullable SessionChanges unwritten) {

		Outcome(@Nullable LocalCopy copy, boolean created, boolean queued) {
			this(copy, created, queued, null);
		}

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
			StoredSession written = refresh(copy.id, copy.written, access.lastAccessedTime(), !access.current());
			session.saved(changes, written);
			return new Outcome(new LocalCopy(copy.id, written, (copy.local == copy.written) ? written : copy.local,
					access.lastAccessedTime()), false, false);
		}
		if (queue && current != null && !changes.isNew() && !changes.isRenamed() && current.id.equals(changes.id())) {
			// a queued change is a change too: locking-mode=auto learns its route as modifying
			SessionWriteSignal.raise();
			Data next = this.repository.parts().writer.planner().plan(current.local, changes);
			StoredSession local = new StoredSession(next, current.written.cas(), next.access());
			session.saved(changes, local);
			return new Outcome(new LocalCopy(current.id, current.written, local, session.getLastAccessedTime()), false,
					true);
		}
		StoredSession before = session.base();
		// a change of a stored session that memcached does not take stays in the local
		// copy, pending, never in the non-sticky LocalFallback (nothing would write it back)
		boolean keepable = before != null && !changes.isNew() && !changes.isRenamed();
		SessionChanges snapshot = changes;
		WriteProblems.Watched watched = WriteProblems.watch(() -> this.repository.save(session, snapshot, !keepable));
		StoredSession after = session.base();
		if ((after == null || after == before) && watched.absent()) {
			return restoreAfterSave(session, snapshot, current, keepable);
		}
		if (after == null || after == before) {
			return new Outcome(null, false, false, (watched.failed() && keepable) ? snapshot : null);
		}
		return new Outcome(new LocalCopy(session.getId(), after, after, session.getLastAccessedTime()),
				changes.isNew(), false);
	}

	/**
	 * A change memcached did not take because it had nothing under the id, not even a
	 * tombstone: the node restarted empty, or evicted the session. That is no logout (a
	 * logout, a login and a takeover leave tombstones), so this server's copy with the
	 * change is the session, and is written back under the same id.
	 */
	private Outcome restoreAfterSave(MemcachedSession session, SessionChanges changes, @Nullable LocalCopy current,
			boolean keepable) {
		StoredSession base = changes.base();
		if (changes.isRenamed() && current != null && current.id.equals(changes.storedId())) {
			return renameAfterRestore(session, changes, current);
		}
		if (!keepable || base == null) {
			// a new session, or a takeover of one that just vanished: reported
			this.repository.parts().writer.problems().gone(changes, false);
			return new Outcome(null, false, false);
		}
		boolean onCopy = current != null && current.id.equals(changes.id());
		StoredSession written = onCopy ? current.written : base;
		Data next = this.repository.parts().writer.planner().plan(onCopy ? current.local : base, changes);
		LocalCopy pending = new LocalCopy(changes.id(), written, new StoredSession(next, written.cas(), next.access()),
				session.getLastAccessedTime());
		LocalCopy restored = restore(pending);
		if (restored == null) {
			return new Outcome(null, false, false);
		}
		if (restored == pending) {
			return new Outcome(null, false, false, changes);
		}
		session.saved(changes, restored.written);
		return new Outcome(restored, false, false);
	}

	/**
	 * A login ({@code changeSessionId}) of a held session memcached lost: the copy goes
	 * back under its old id, then the rename runs again against it (the old id gets its
	 * tombstone as after any login).
	 */
	private Outcome renameAfterRestore(MemcachedSession session, SessionChanges changes, LocalCopy current) {
		LocalCopy restored = restore(current);
		if (restored == null || restored == current) {
			// a tombstone ended it, or memcached did not take it: reported by restore
			return new Outcome(null, false, false);
		}
		SessionChanges again = changes.withBase(restored.written);
		this.repository.save(session, again, false);
		StoredSession after = session.base();
		if (after == null || after == restored.written || !Objects.equals(session.storedId(), session.getId())) {
			return new Outcome(null, false, false);
		}
		return new Outcome(new LocalCopy(session.getId(), after, after, session.getLastAccessedTime()), false, false);
	}

	/**
	 * Writes a local copy back under its id when memcached has nothing there, no session
	 * and no tombstone (its node restarted empty, or evicted it): for a sticky server the
	 * copy it holds is the session, until a tombstone (a logout, a login, a takeover by
	 * another server) says otherwise. The item is added, never set over anything, and a
	 * tombstone on the backup node also ends the session.
	 * @return the copy as now stored (with its backup queued); the same copy when
	 * memcached did not take it (reported); {@code null} when a tombstone ended the
	 * session or it may not be stored (too large, reported)
	 */
	public @Nullable LocalCopy restore(LocalCopy copy) {
		MemcachedNode node = this.repository.idFormat().nodeOf(copy.id);
		RepositoryParts parts = this.repository.parts();
		if (node == null || !parts.nodes.isAvailable(node)) {
			return copy;
		}
		SessionChanges changes = pendingChanges(copy);
		StoredSession[] stored = new StoredSession[1];
		WriteProblems.Watched watched;
		try {
			watched = WriteProblems.watch(() -> stored[0] = parts.writer.restore(changes, node));
		}
		catch (PrimaryDownException ex) {
			return copy;
		}
		catch (SessionMovedException ex) {
			// moved to another node meanwhile: readers of this id follow it there
			return null;
		}
		if (stored[0] != null) {
			return new LocalCopy(copy.id, stored[0], stored[0], copy.lastAccessedTime);
		}
		return (watched.failed() || watched.absent()) ? copy : null;
	}

	/**
	 * Writes what a copy holds beyond what memcached holds (queued changes of several
	 * requests, the latest state wins), as one compare-and-set.
	 * @return the copy as now stored; the same copy, still pending, when memcached did not
	 * take it (reported); {@code null} when it may not be stored (the session is gone or too
	 * large, reported)
	 */
	public @Nullable LocalCopy write(LocalCopy copy) {
		if (!copy.isPending()) {
			return copy;
		}
		SessionChanges changes = pendingChanges(copy);
		if (!changes.hasEdits()) {
			return new LocalCopy(copy.id, copy.written, copy.written, copy.lastAccessedTime);
		}
		RepositoryParts parts = this.repository.parts();
		MemcachedSession carrier = new MemcachedSession(copy.id, copy.written, this.repository.idFormat(),
				parts.codec, parts.lifetime);
		WriteProblems.Watched watched = WriteProblems.watch(() -> this.repository.save(carrier, changes, false));
		StoredSession stored = carrier.base();
		if ((stored == null || stored == copy.written) && watched.absent()) {
			return restore(copy);
		}
		if (stored == null || stored == copy.written) {
			return watched.failed() ? copy : null;
		}
		return new LocalCopy(carrier.getId(), stored, stored, copy.lastAccessedTime);
	}

	/** A copy's local state as changes on top of what memcached holds (none when nothing is pending). */
	private static SessionChanges pendingChanges(LocalCopy copy) {
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
		return new SessionChanges(copy.id, copy.id, copy.written, written.creationTime(), Map.copyOf(set), Map.of(),
				Set.copyOf(removed), local.maxInactiveInterval(), intervalChanged, intervalChanged,
				new AccessChange(copy.lastAccessedTime, true));
	}

	/**
	 * A save's changes that memcached did not take, applied to the local copy as pending
	 * (like a queued change), so that the local copy, the only current one, keeps them
	 * until {@link #write(LocalCopy)} stores them.
	 * @param session the request's session (marked saved with the pending state)
	 * @param changes the changes not written
	 * @param now the local copy now, {@code null} when there is none
	 */
	public LocalCopy keepPending(MemcachedSession session, SessionChanges changes, @Nullable LocalCopy now) {
		StoredSession base = changes.base();
		Assert.state(base != null, "only changes of a stored session are kept pending");
		boolean onCopy = now != null && now.id.equals(changes.id());
		StoredSession written = onCopy ? now.written : base;
		Data next = this.repository.parts().writer.planner().plan(onCopy ? now.local : base, changes);
		StoredSession local = new StoredSession(next, written.cas(), next.access());
		session.saved(changes, local);
		return new LocalCopy(changes.id(), written, local, session.getLastAccessedTime());
	}

	/** What a look at memcached says about a local copy. */
	public enum Check {

		/** Memcached holds the version this copy was written as: the copy is current. */
		CURRENT,

		/** Memcached holds another version under the id: read it from there. */
		CHANGED,

		/** A tombstone: the session was taken over by another server, renamed or deleted. */
		MOVED,

		/** Nothing there (expired or evicted in memcached, or the node restarted). */
		ABSENT,

		/** Memcached did not answer. */
		UNKNOWN

	}

	/**
	 * Looks up a local copy's id in memcached (one read): whether another server took the
	 * session over or deleted it since this server wrote it.
	 */
	public Check check(LocalCopy copy) {
		MemcachedNode node = this.repository.idFormat().nodeOf(copy.id);
		if (node == null || !this.repository.parts().nodes.isAvailable(node)) {
			return Check.UNKNOWN;
		}
		SessionReader.Read read = this.repository.parts().reader.read(copy.id, node);
		return switch (read.status()) {
			case FOUND -> (read.session() != null && read.session().version() == copy.written.version())
					? Check.CURRENT : Check.CHANGED;
			case DELETED -> Check.MOVED;
			case ABSENT -> Check.ABSENT;
			case FAILED -> Check.UNKNOWN;
			default -> Check.CHANGED;
		};
	}

	/**
	 * Writes the access of a request that changed nothing, when the stored one no longer
	 * covers it: the 38-byte validity item (stamped with the version it extends) on the
	 * primary and the backup, and when the data item would otherwise expire too early a
	 * {@code touch} of it on both. With a slack of half the interval, that is at most once
	 * per half interval per session; nothing is awaited.
	 */
	private StoredSession refresh(String id, StoredSession written, Instant accessTime, boolean exact) {
		Access stored = written.access();
		if (!exact && SessionLifetime.covers(stored, accessTime)) {
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
		Duration slack = exact ? Duration.ZERO : SessionLifetime.neverExpires(interval)
				? SessionLifetime.NEVER_EXPIRING_WINDOW : interval.dividedBy(2);
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

		/** When memcached was last seen to hold this copy's version (epoch millis). */
		private volatile long verifiedAt = Long.MIN_VALUE;

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

		/**
		 * When this server last knew memcached to hold this copy's version (it wrote or
		 * read or checked it); {@link Long#MIN_VALUE} when not recorded.
		 */
		public long verifiedAt() {
			return this.verifiedAt;
		}

		/** Records that memcached was known to hold this copy's version at that time. */
		public LocalCopy verified(long epochMillis) {
			this.verifiedAt = epochMillis;
			return this;
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
					: new LocalCopy(kept.id, kept.written, kept.local, access)
						.verified(Math.max(this.verifiedAt, other.verifiedAt));
		}

		/**
		 * What a write of all of this copy's queued changes stored, with this copy's access
		 * when it is later: the local version numbers of coalesced changes run ahead of the
		 * one version written, and the stored one (and its CAS token) is what counts.
		 */
		public LocalCopy writtenAs(LocalCopy stored) {
			Instant access = this.lastAccessedTime.isAfter(stored.lastAccessedTime) ? this.lastAccessedTime
					: stored.lastAccessedTime;
			return new LocalCopy(stored.id, stored.written, stored.written, access).verified(stored.verifiedAt);
		}

		/** This copy with what a later write stored, keeping the local state queued since. */
		public LocalCopy withWritten(LocalCopy stored) {
			return new LocalCopy(this.id, stored.written, this.local, this.lastAccessedTime)
				.verified(stored.verifiedAt);
		}

	}

}
