package io.github.msm.session;

import java.util.Objects;

import io.github.msm.session.SessionChanges.AccessChange;
import io.github.msm.session.SessionCodec.Data;
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

	private final ReadOnlyAccessWriter accessRefresh;

	public StickyAccess(MemcachedSessionRepository repository) {
		Assert.notNull(repository, "repository must not be null");
		this.repository = repository;
		this.accessRefresh = new ReadOnlyAccessWriter(repository);
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
	 * A new session object from a local copy: each request gets its own (its own
	 * attribute map and change tracking), sharing the attribute values the copy keeps
	 * ({@link LiveValues}), so a local hit deserializes nothing; attributes without a kept
	 * value are deserialized from the copy's bytes when the request reads them.
	 */
	public MemcachedSession open(LocalCopy copy) {
		RepositoryParts parts = this.repository.parts();
		MemcachedSession session = new MemcachedSession(copy.id, copy.local, this.repository.idFormat(), parts.codec,
				parts.lifetime);
		session.localAccess(copy.lastAccessedTime);
		session.adoptLive(copy.live);
		return session;
	}

	private static LiveValues liveOf(@Nullable LocalCopy copy) {
		return (copy != null) ? copy.live : new LiveValues();
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
		Outcome outcome = saveChanges(session, current, queue);
		LocalCopy copy = outcome.copy();
		if (copy != null && outcome.unwritten() == null) {
			// the copy keeps the values this request read or wrote, for the next ones
			session.publishLive(copy.live);
		}
		return outcome;
	}

	private Outcome saveChanges(MemcachedSession session, @Nullable LocalCopy current, boolean queue) {
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
			StoredSession written = this.accessRefresh.refresh(copy.id, copy.written, access.lastAccessedTime(),
					!access.current());
			session.saved(changes, written);
			return new Outcome(new LocalCopy(copy.id, written, (copy.local == copy.written) ? written : copy.local,
					access.lastAccessedTime(), copy.live), false, false);
		}
		if (queue && current != null && !changes.isNew() && !changes.isRenamed() && current.id.equals(changes.id())) {
			// a queued change is a change too: locking-mode=auto learns its route as modifying
			SessionWriteSignal.raise();
			Data next = this.repository.parts().writer.planner().plan(current.local, changes);
			StoredSession local = new StoredSession(next, current.written.cas(), next.access());
			session.saved(changes, local);
			return new Outcome(
					new LocalCopy(current.id, current.written, local, session.getLastAccessedTime(), current.live), false,
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
		return new Outcome(new LocalCopy(session.getId(), after, after, session.getLastAccessedTime(), liveOf(current)),
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
				session.getLastAccessedTime(), liveOf(current));
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
		return new Outcome(new LocalCopy(session.getId(), after, after, session.getLastAccessedTime(), current.live),
				false, false);
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
		SessionChanges changes = copy.pendingChanges();
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
			return new LocalCopy(copy.id, stored[0], stored[0], copy.lastAccessedTime, copy.live);
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
		SessionChanges changes = copy.pendingChanges();
		if (!changes.hasEdits()) {
			return new LocalCopy(copy.id, copy.written, copy.written, copy.lastAccessedTime, copy.live);
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
		return new LocalCopy(carrier.getId(), stored, stored, copy.lastAccessedTime, copy.live);
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
		LocalCopy pending = new LocalCopy(changes.id(), written, local, session.getLastAccessedTime(), liveOf(now));
		session.publishLive(pending.live);
		return pending;
	}

	/**
	 * Looks up a local copy's id in memcached (one read): whether another server took the
	 * session over or deleted it since this server wrote it.
	 */
	public HeldCopyCheck check(LocalCopy copy) {
		MemcachedNode node = this.repository.idFormat().nodeOf(copy.id);
		if (node == null || !this.repository.parts().nodes.isAvailable(node)) {
			return HeldCopyCheck.UNKNOWN;
		}
		SessionReader.Read read = this.repository.parts().reader.read(copy.id, node);
		return switch (read.status()) {
			case FOUND -> (read.session() != null && read.session().version() == copy.written.version())
					? HeldCopyCheck.CURRENT : HeldCopyCheck.CHANGED;
			case DELETED -> HeldCopyCheck.MOVED;
			case ABSENT -> HeldCopyCheck.ABSENT;
			case FAILED -> HeldCopyCheck.UNKNOWN;
			default -> HeldCopyCheck.CHANGED;
		};
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

}
