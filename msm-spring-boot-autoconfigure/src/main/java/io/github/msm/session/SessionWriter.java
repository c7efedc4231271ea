package io.github.msm.session;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;

import io.github.msm.session.SessionCodec.Data;
import io.github.msm.session.SessionReader.Read;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeSelector;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.session.storage.WriteOutcome;
import io.github.msm.session.storage.WriteResult;
import org.jspecify.annotations.Nullable;

/**
 * Saves a session from one snapshot of a request's changes: plan the new version of the
 * data item (or only the access), write it to the primary node, then have its backup
 * written.
 *
 * <p>
 * Data writes are compare-and-set against the version the request read. When another
 * server wrote in between, the same snapshot is applied on top of the newer version and
 * written again, with jittered back-off, until the deadline (tied to the operation
 * timeout) passes; saves of one session on this server wait for each other instead of
 * conflicting. A session deleted or renamed meanwhile is never written back. A change
 * that still cannot be stored is counted and logged at WARN with the session id and
 * what it changed.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class SessionWriter {

	private static final long MAX_BACKOFF_NANOS = 32_000_000;

	/**
	 * What the writer needs to know besides its collaborators.
	 * @param keys the key layout
	 * @param metrics where outcomes are counted
	 * @param serializerId the serializer that writes attributes
	 * @param maxItemSize the largest item memcached takes
	 * @param deadline how long one save may retry
	 */
	record Settings(SessionKeys keys, SessionMetrics metrics, byte serializerId, int maxItemSize, Duration deadline) {
	}

	private final MemcachedStore store;

	private final NodeSelector nodes;

	private final SessionLifetime lifetime;

	private final SessionReader reader;

	private final BackupWriter backup;

	private final SessionRemover remover;

	private final AccessWriter accessWriter;

	private final WriteProblems problems;

	private final VersionPlanner planner;

	private final SaveLocks locks = new SaveLocks();

	private final Settings settings;

	SessionWriter(MemcachedStore store, NodeSelector nodes, SessionLifetime lifetime, SessionReader reader,
			BackupWriter backup, SessionRemover remover, Settings settings) {
		this.store = store;
		this.nodes = nodes;
		this.lifetime = lifetime;
		this.reader = reader;
		this.backup = backup;
		this.remover = remover;
		this.settings = settings;
		this.problems = new WriteProblems(settings.metrics(), settings.maxItemSize());
		this.planner = new VersionPlanner(lifetime, settings.serializerId());
		this.accessWriter = new AccessWriter(store, nodes, lifetime, backup, settings.keys(), settings.metrics());
	}

	/**
	 * Saves what the snapshot holds.
	 * @param changes the request's changes
	 * @param node the session's primary node
	 * @return what is stored now; {@code null} when nothing is (the session was deleted
	 * or renamed meanwhile, or the change could not be stored and was reported)
	 */
	@Nullable StoredSession save(SessionChanges changes, MemcachedNode node) {
		if (!changes.changesData()) {
			this.settings.metrics().unchanged();
			return this.accessWriter.write(changes, node);
		}
		try (BackupWriter.Deferred backups = this.backup.defer()) {
			return saveData(changes, node);
		}
	}

	private @Nullable StoredSession saveData(SessionChanges changes, MemcachedNode node) {
		long deadline = System.nanoTime() + this.settings.deadline().toNanos();
		String lockId = (changes.storedId() != null) ? changes.storedId() : changes.id();
		SaveLocks.Held held = this.locks.acquire(lockId, deadline);
		if (held == null) {
			return this.problems.failed(changes, "other saves of this session on this server did not finish in time");
		}
		try {
			StoredSession base = newer(changes.base(), held.lastWritten());
			if (changes.isNew() || base == null) {
				StoredSession stored = writeNew(changes, node);
				held.written(stored);
				return stored;
			}
			if (changes.isRenamed()) {
				held.written(null);
				return rename(changes, node, base, deadline);
			}
			StoredSession stored = writeChanges(changes, node, base, deadline);
			held.written(stored);
			return stored;
		}
		finally {
			held.close();
		}
	}

	private @Nullable StoredSession writeNew(SessionChanges changes, MemcachedNode node) {
		Data data = this.planner.plan(null, changes);
		byte[] bytes = SessionCodec.encodeData(data);
		String key = this.settings.keys().data(changes.id());
		if (this.problems.isOversize(changes.id(), key, bytes)) {
			return null;
		}
		int expiration = this.planner.dataExpiration(data);
		WriteOutcome outcome = this.store.setAndGetCas(node, key, expiration, bytes);
		if (!outcome.isOk()) {
			return nodeFailed(changes, node);
		}
		return stored(changes.id(), node, key, data, bytes, expiration, outcome);
	}

	private @Nullable StoredSession writeChanges(SessionChanges changes, MemcachedNode node, StoredSession base,
			long deadline) {
		String key = this.settings.keys().data(changes.id());
		StoredSession current = base;
		for (int attempt = 0;; attempt++) {
			current = withCas(current, changes, node);
			Version next = (current != null) ? nextVersion(current, changes, key) : null;
			if (next == null) {
				return null;
			}
			Data data = next.data();
			byte[] bytes = next.bytes();
			int expiration = next.expiration();
			WriteOutcome outcome = this.store.cas(node, key, current.cas(), expiration, bytes);
			switch (outcome.result()) {
				case OK:
					return stored(changes.id(), node, key, data, bytes, expiration, outcome);
				case NOT_FOUND:
					return this.problems.gone(changes, false);
				case FAILED:
					return nodeFailed(changes, node);
				default:
					this.settings.metrics().conflict();
			}
			if (!backOff(attempt, deadline)) {
				return this.problems.failed(changes, "the session kept changing on other servers until the deadline");
			}
			current = reread(changes, node);
			if (current == null) {
				return null;
			}
		}
	}

	/**
	 * Writes a session back under its id when its primary has nothing there, no session
	 * and no tombstone: sticky mode's local copy after the node restarted empty (or
	 * evicted it). The item is added, never set, so a tombstone written meanwhile (a
	 * logout, a login, a takeover) stays and ends the session; a tombstone on the backup
	 * node ends it too (the primary's may have been lost with the node). A newer backup
	 * copy is the base the changes apply to.
	 * @param changes the local state, as changes on top of the version last written
	 * @param node the session's primary node
	 * @return what is stored now; {@code null} when a tombstone ended the session or the
	 * change could not be stored (both reported)
	 */
	@Nullable StoredSession restore(SessionChanges changes, MemcachedNode node) {
		try (BackupWriter.Deferred backups = this.backup.defer()) {
			long deadline = System.nanoTime() + this.settings.deadline().toNanos();
			SaveLocks.Held held = this.locks.acquire(changes.id(), deadline);
			if (held == null) {
				return this.problems.failed(changes, "other saves of this session on this server did not finish in time");
			}
			try {
				StoredSession stored = restoreData(changes, node, deadline);
				held.written(stored);
				return stored;
			}
			finally {
				held.close();
			}
		}
	}

	private @Nullable StoredSession restoreData(SessionChanges changes, MemcachedNode node, long deadline) {
		StoredSession base = changes.base();
		MemcachedNode backupNode = this.nodes.backupOf(node);
		if (backupNode != null && this.nodes.isAvailable(backupNode)) {
			Read backup = this.reader.readBackup(changes.id(), backupNode);
			if (backup.status() == SessionReader.Status.DELETED) {
				return this.problems.gone(changes, true);
			}
			if (backup.status() == SessionReader.Status.FOUND && (base == null || backup.session().version() > base.version())) {
				base = backup.session();
			}
		}
		String key = this.settings.keys().data(changes.id());
		Data data = this.planner.plan(base, changes);
		byte[] bytes = SessionCodec.encodeData(data);
		if (this.problems.isOversize(changes.id(), key, bytes)) {
			return null;
		}
		int expiration = this.planner.dataExpiration(data);
		WriteOutcome added = this.store.add(node, key, expiration, bytes);
		switch (added.result()) {
			case OK:
				this.settings.metrics().restored();
				return stored(changes.id(), node, key, data, bytes, expiration, added);
			case CONFLICT:
				Read there = this.reader.read(changes.id(), node);
				if (there.status() == SessionReader.Status.FOUND) {
					return changes.hasEdits() ? writeChanges(changes, node, there.session(), deadline) : there.session();
				}
				return (there.status() == SessionReader.Status.DELETED) ? this.problems.gone(changes, true)
						: this.problems.failed(changes, "the node did not confirm the write");
			default:
				return nodeFailed(changes, node);
		}
	}

	/**
	 * Stores a session under a new id with the same base on another node, because its
	 * node is down (or is a failover node and a regular node is back). The new id is the
	 * same for every server that moves the session, so concurrent moves meet on it: the
	 * first adds it, the others merge into it. Every copy under the old id is then
	 * replaced with a tombstone, on the old node as soon as it is up again.
	 * @param changes the request's changes, made to the session under its old id
	 * @param newId the new id
	 * @param target the node the new id names
	 * @param oldNode the node the old id names; {@code null} for a session that lived only
	 * in this server's memory
	 * @return what is stored now under the new id, {@code null} when nothing is
	 */
	@Nullable StoredSession relocate(SessionChanges changes, String newId, MemcachedNode target,
			@Nullable MemcachedNode oldNode) {
		try (BackupWriter.Deferred backups = this.backup.defer()) {
			return relocateData(changes, newId, target, oldNode);
		}
	}

	private @Nullable StoredSession relocateData(SessionChanges changes, String newId, MemcachedNode target,
			@Nullable MemcachedNode oldNode) {
		long deadline = System.nanoTime() + this.settings.deadline().toNanos();
		SessionChanges moved = changes.movedTo(newId);
		SaveLocks.Held held = this.locks.acquire(newId, deadline);
		if (held == null) {
			return this.problems.failed(moved, "other saves of this session on this server did not finish in time");
		}
		try {
			StoredSession stored = add(moved, target, deadline);
			if (stored != null && changes.storedId() != null && oldNode != null) {
				this.remover.moved(changes.storedId(), changes.isRenamed() ? null : moved.id(), oldNode,
						stored.data().maxInactiveInterval(), (changes.base() != null) ? changes.base().data() : null);
			}
			held.written(stored);
			return stored;
		}
		finally {
			held.close();
		}
	}

	private @Nullable StoredSession add(SessionChanges moved, MemcachedNode target, long deadline) {
		Data data = this.planner.plan(moved.base(), moved);
		byte[] bytes = SessionCodec.encodeData(data);
		String key = this.settings.keys().data(moved.id());
		if (this.problems.isOversize(moved.id(), key, bytes)) {
			return null;
		}
		int expiration = this.planner.dataExpiration(data);
		WriteOutcome added = this.store.add(target, key, expiration, bytes);
		for (int attempt = 0; added.result() == WriteResult.CONFLICT; attempt++) {
			Read there = this.reader.read(moved.id(), target);
			if (there.status() == SessionReader.Status.FOUND) {
				return moved.hasEdits() ? writeChanges(moved, target, there.session(), deadline) : there.session();
			}
			if (!isLeftByThisSession(there, moved.id()) || !backOff(attempt, deadline)) {
				return (there.status() == SessionReader.Status.DELETED) ? this.problems.gone(moved, true)
						: this.problems.failed(moved, "the node it moves to failed");
			}
			// the session lived under this id before and moved on: it may come back
			added = this.store.cas(target, key, there.tombstoneCas(), expiration, bytes);
			if (added.isOk()) {
				this.remover.movedBack(moved.id(), target);
			}
		}
		if (!added.isOk()) {
			return this.problems.failed(moved, "the node it moves to did not confirm the write");
		}
		return stored(moved.id(), target, key, data, bytes, expiration, added);
	}

	/**
	 * Whether the id holds the tombstone of an earlier move of the same session (same
	 * base): a session that moves back to a node it left may take its old id again. Any
	 * other tombstone (a deletion, a login) stays.
	 */
	private static boolean isLeftByThisSession(Read read, String id) {
		String movedTo = read.movedTo();
		return read.status() == SessionReader.Status.DELETED && movedTo != null && movedTo.length() > 32
				&& id.length() > 32 && movedTo.regionMatches(0, id, 0, 33);
	}

	/**
	 * Moves the session to its new id: writes the newest stored version with this
	 * request's changes under the new id, then replaces the old data item with a
	 * tombstone only if nobody wrote it meanwhile. Otherwise the newer version is merged
	 * and the new id written again, so a concurrent write ends up in the renamed session;
	 * a session deleted or renamed meanwhile makes the new id go away again.
	 */
	private @Nullable StoredSession rename(SessionChanges changes, MemcachedNode node, StoredSession base,
			long deadline) {
		String oldId = changes.storedId();
		SessionKeys keys = this.settings.keys();
		String newKey = keys.data(changes.id());
		String oldKey = keys.data(oldId);
		StoredSession current = base;
		for (int attempt = 0;; attempt++) {
			current = withCas(current, changes, node);
			Version next = (current != null) ? nextVersion(current, changes, newKey) : null;
			if (next == null) {
				this.store.delete(node, newKey);
				return null;
			}
			Data data = next.data();
			byte[] bytes = next.bytes();
			int expiration = next.expiration();
			WriteOutcome written = this.store.setAndGetCas(node, newKey, expiration, bytes);
			if (!written.isOk()) {
				this.store.delete(node, newKey);
				return nodeFailed(changes, node);
			}
			// as long as any copy of the old id may still be held (a sticky server's copy of a
			// session taken over ends only at this tombstone)
			int tombstoneExpiration = this.lifetime
				.expiration(SessionLifetime.tombstoneLifetime(data.maxInactiveInterval()));
			WriteOutcome tombstone = this.store.cas(node, oldKey, current.cas(), tombstoneExpiration,
					SessionCodec.tombstone());
			switch (tombstone.result()) {
				case OK:
					this.remover.renamed(oldId, node, data.maxInactiveInterval());
					return stored(changes.id(), node, newKey, data, bytes, expiration, written);
				case CONFLICT:
					this.settings.metrics().conflict();
					break;
				case NOT_FOUND:
					this.store.delete(node, newKey);
					return this.problems.gone(changes, false);
				default:
					this.store.delete(node, newKey);
					return nodeFailed(changes, node);
			}
			if (!backOff(attempt, deadline)) {
				this.store.delete(node, newKey);
				return this.problems.failed(changes, "the session kept changing on other servers until the deadline");
			}
			current = reread(changes, node);
			if (current == null) {
				this.store.delete(node, newKey);
				return null;
			}
		}
	}

	WriteProblems problems() {
		return this.problems;
	}

	VersionPlanner planner() {
		return this.planner;
	}

	private StoredSession stored(String id, MemcachedNode node, String key, Data data, byte[] bytes, int expiration,
			WriteOutcome outcome) {
		this.settings.metrics().written();
		MemcachedNode backupNode = this.nodes.backupOf(node);
		if (backupNode != null) {
			this.backup.writeData(id, backupNode, SessionKeys.backup(key), data.version(), expiration, bytes);
		}
		return new StoredSession(data, outcome.cas(), data.access());
	}

	/** The next version as stored, or {@code null} when it is too large to store (reported). */
	private record Version(Data data, byte[] bytes, int expiration) {
	}

	private @Nullable Version nextVersion(StoredSession current, SessionChanges changes, String key) {
		Data data = this.planner.plan(current, changes);
		byte[] bytes = SessionCodec.encodeData(data);
		if (this.problems.isOversize(changes.id(), key, bytes)) {
			return null;
		}
		return new Version(data, bytes, this.planner.dataExpiration(data));
	}

	/**
	 * The version to compare-and-set against: a version this server wrote without
	 * learning its CAS token (text protocol) is read again first.
	 */
	/**
	 * A write the primary did not confirm: when the node is down now, the caller moves the
	 * session to another node ({@link PrimaryDownException}); else the change is reported.
	 */
	private @Nullable StoredSession nodeFailed(SessionChanges changes, MemcachedNode node) {
		if (!this.nodes.isAvailable(node)) {
			throw new PrimaryDownException(node);
		}
		return this.problems.failed(changes, "the primary node did not confirm the write");
	}

	private @Nullable StoredSession withCas(StoredSession current, SessionChanges changes, MemcachedNode node) {
		return (current.cas() != 0) ? current : reread(changes, node);
	}

	private @Nullable StoredSession reread(SessionChanges changes, MemcachedNode node) {
		String id = (changes.storedId() != null) ? changes.storedId() : changes.id();
		Read read = this.reader.read(id, node);
		return switch (read.status()) {
			case FOUND -> read.session();
			case ABSENT -> this.problems.gone(changes, false);
			case DELETED -> {
				if (isLeftByThisSession(read, id)) {
					throw new SessionMovedException(read.movedTo());
				}
				yield this.problems.gone(changes, true);
			}
			case FAILED -> nodeFailed(changes, node);
			default -> this.problems.failed(changes, "the stored session can no longer be read by this server");
		};
	}

	private static @Nullable StoredSession newer(@Nullable StoredSession a, @Nullable StoredSession b) {
		if (a == null) {
			return b;
		}
		return (b != null && b.version() > a.version()) ? b : a;
	}

	/** Waits a jittered, growing while; {@code false} when the deadline has passed. */
	private static boolean backOff(int attempt, long deadline) {
		long left = deadline - System.nanoTime();
		if (left <= 0) {
			return false;
		}
		long ceiling = Math.min(MAX_BACKOFF_NANOS, 1_000_000L << Math.min(attempt, 5));
		LockSupport.parkNanos(Math.min(left, ThreadLocalRandom.current().nextLong(ceiling / 4, ceiling + 1)));
		return true;
	}


}
