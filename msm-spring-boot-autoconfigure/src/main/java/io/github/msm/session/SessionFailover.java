package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.github.msm.session.log.SessionIdTag;
import io.github.msm.session.SessionCodec.Validity;
import io.github.msm.session.SessionReader.Read;
import io.github.msm.session.SessionReader.Status;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeAvailability;
import io.github.msm.session.node.NodeSelector;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.session.storage.WriteOutcome;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * Keeps sessions through node failures: reads the backup copy when a session's node is
 * down and moves the session to the node that holds it (a new id with the same base, so
 * the browser gets a new cookie); restores a copy lost with a node that came back empty;
 * and writes the backup copy again at a session's next access after any node went down
 * or came back, so that a second failure right after loses nothing.
 *
 * <p>
 * All of this costs nothing while no node failed: the extra reads and writes happen only
 * within the recovery window after a node went down or came back.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class SessionFailover implements NodeAvailability.Listener {

	private static final Log logger = LogFactory.getLog(SessionFailover.class);

	/** How many moves in a row an outage check follows to see whether they lead back. */
	private static final int MAX_HOPS = 4;

	private final MemcachedStore store;

	private final NodeSelector nodes;

	private final SessionKeys keys;

	private final SessionIdFormat idFormat;

	private final SessionReader reader;

	private final SessionWriter writer;

	private final BackupWriter backup;

	private final SessionLifetime lifetime;

	private final SessionMetrics metrics;

	private final MoveSettler settler;

	private final OutageEpochs epochs;

	private final Duration recoveryWindow;

	private final DisplacedBackups displaced;

	private final Map<MemcachedNode, Instant> restartedAt = new ConcurrentHashMap<>();

	private volatile @Nullable Instant topologyChangedAt;

	private final Map<MemcachedNode, Instant> returnedAt = new ConcurrentHashMap<>();

	/** Sessions this server checked after their node came back, by id. */
	private final Cache<String, Boolean> checked;

	/** Sessions this server copied again since the last topology change, by id. */
	private final Cache<String, Boolean> replicated;

	SessionFailover(MemcachedStore store, NodeSelector nodes, SessionKeys keys, SessionIdFormat idFormat,
			SessionReader reader, SessionWriter writer, BackupWriter backup, SessionLifetime lifetime,
			SessionMetrics metrics, MoveSettler settler, OutageEpochs epochs, Duration recoveryWindow) {
		this.settler = settler;
		this.epochs = epochs;
		this.store = store;
		this.nodes = nodes;
		this.keys = keys;
		this.idFormat = idFormat;
		this.reader = reader;
		this.writer = writer;
		this.backup = backup;
		this.lifetime = lifetime;
		this.metrics = metrics;
		this.recoveryWindow = recoveryWindow;
		this.replicated = Caffeine.newBuilder().maximumSize(200_000).expireAfterWrite(recoveryWindow).build();
		this.checked = Caffeine.newBuilder().maximumSize(200_000).expireAfterWrite(recoveryWindow).build();
		this.displaced = new DisplacedBackups(store, nodes, idFormat);
		backup.rememberDisplaced(this.displaced);
	}

	/**
	 * A session found somewhere, under the id it has now.
	 * @param id the id, a new one when the session moved
	 * @param session what is stored
	 */
	record Located(String id, StoredSession session) {
	}

	/**
	 * Finds a session whose node is down (or a failover node a regular node replaces) and
	 * moves it to the first node after it that is up.
	 * @param id the requested id
	 * @param node the node it names
	 * @return the session under its new id, {@code null} when it is gone
	 */
	@Nullable Located moveFrom(String id, MemcachedNode node) {
		Located found = this.nodes.isAvailable(node) ? follow(id, node, this.reader.read(id, node)) : freshestCopy(id, node);
		if (found == null || !found.id().equals(id)) {
			return found;
		}
		StoredSession stored = found.session();
		if (this.lifetime.isExpired(stored.data().maxInactiveInterval(), stored.access())) {
			return null;
		}
		MemcachedNode target = this.nodes.relocationTarget(node);
		if (target == null) {
			return found;
		}
		String newId = this.idFormat.onNode(id, target);
		SessionChanges unchanged = SessionChanges.none(id, stored);
		StoredSession moved = this.writer.relocate(unchanged, newId, target, node);
		if (moved == null) {
			return found;
		}
		this.metrics.relocated();
		logger.debug("Session " + SessionIdTag.of(id) + " moved from node " + node.id() + " to " + target.id() + " as "
				+ SessionIdTag.of(newId));
		return new Located(newId, moved);
	}

	/**
	 * A session missing on its node, which may have lost it: a node that came back empty
	 * within the recovery window. The freshest backup copy is written back to it.
	 * @return the restored session, or {@code null} when there is nothing to restore
	 */
	@Nullable Located restore(String id, MemcachedNode node) {
		if (!isRecent(this.restartedAt.get(node))) {
			return null;
		}
		Located found = freshestCopy(id, node);
		if (found == null || !found.id().equals(id)) {
			return found;
		}
		StoredSession stored = found.session();
		byte[] bytes = SessionCodec.encodeData(stored.data());
		WriteOutcome added = this.store.add(node, this.keys.data(id), this.writer.planner().dataExpiration(stored.data()), bytes);
		if (!added.isOk()) {
			Read read = this.reader.read(id, node);
			return (read.status() == Status.FOUND) ? new Located(id, read.session()) : null;
		}
		if (stored.access() != stored.data().access()) {
			writeValidity(node, this.keys.validity(id), stored);
		}
		this.metrics.restored();
		return new Located(id, new StoredSession(stored.data(), added.cas(), stored.access()));
	}

	/**
	 * Writes the backup copy of a session read from its primary again, once per server,
	 * if any node went down or came back within the recovery window: the backup node may
	 * have lost it, or the backup now belongs on another node.
	 */
	void replicateIfNeeded(String id, MemcachedNode node, StoredSession stored) {
		if (!isRecent(this.topologyChangedAt) || this.replicated.asMap().putIfAbsent(id, Boolean.TRUE) != null) {
			return;
		}
		MemcachedNode backupNode = this.nodes.backupOf(node);
		if (backupNode == null) {
			return;
		}
		String dataKey = SessionKeys.backup(this.keys.data(id));
		this.backup.writeData(id, backupNode, dataKey, stored.version(), this.writer.planner().dataExpiration(stored.data()),
				SessionCodec.encodeData(stored.data()));
		if (stored.access() != stored.data().access()) {
			int expiration = this.lifetime.expiration(
					this.lifetime.validityLifetime(stored.data().maxInactiveInterval(), stored.access()));
			this.backup.set(id, backupNode, SessionKeys.backup(this.keys.validity(id)), expiration,
					SessionCodec.encodeValidity(new Validity(stored.version(), stored.access())));
		}
		dropInterimCopies(id, node, backupNode);
		this.metrics.replicated();
	}

	/**
	 * Deletes the backup copies of a session on the nodes that are neither its primary nor
	 * its backup: left there while its backup node was down (or taken for down), they
	 * stopped changing when it came back. Were they kept, a later outage of the primary
	 * and the backup together would serve such a copy, with every change since missing.
	 * Nothing is there to serve then, and the session gets a stand-in until its nodes
	 * answer (see {@link LocalFallback}). Queued behind this server's earlier backup
	 * writes to those nodes, so none of them lands after.
	 */
	private void dropInterimCopies(String id, MemcachedNode primary, MemcachedNode backupNode) {
		String dataKey = SessionKeys.backup(this.keys.data(id));
		String validityKey = SessionKeys.backup(this.keys.validity(id));
		for (MemcachedNode other : this.nodes.othersUp(primary)) {
			if (!other.equals(backupNode)) {
				this.backup.delete(id, other, dataKey);
				this.backup.delete(id, other, validityKey);
			}
		}
	}

	/**
	 * Follows a tombstone that says where a session moved; the new id is checked like a
	 * cookie, since the bytes come from memcached.
	 */
	@Nullable Located follow(String id, MemcachedNode node, Read read) {
		if (read.status() == Status.FOUND) {
			return new Located(id, read.session());
		}
		if (read.status() != Status.DELETED || read.movedTo() == null) {
			return null;
		}
		String newId = read.movedTo();
		MemcachedNode newNode = this.idFormat.nodeOf(newId);
		// only to the same session on another node: the bytes come from memcached
		if (newNode == null || newNode.equals(node) || !newId.equals(this.idFormat.onNode(id, newNode))) {
			return null;
		}
		if (!this.nodes.isAvailable(newNode)) {
			// this server may not have seen that node come back yet; its backup tells
			Located copy = freshestCopy(newId, newNode, false);
			return (copy != null && copy.id().equals(newId)) ? copy : null;
		}
		Read there = this.reader.read(newId, newNode);
		return (there.status() == Status.FOUND) ? new Located(newId, there.session()) : null;
	}

	/**
	 * The backup copy with the highest version among all nodes that are up (a node that
	 * was down while the session changed may hold an older one); a tombstone anywhere
	 * means the session is gone, or moved.
	 */
	private @Nullable Located freshestCopy(String id, MemcachedNode primary) {
		return freshestCopy(id, primary, true);
	}

	private @Nullable Located freshestCopy(String id, MemcachedNode primary, boolean followMoves) {
		StoredSession freshest = queuedHere(id);
		for (MemcachedNode node : this.nodes.othersUp(primary)) {
			Read read = this.reader.readBackup(id, node);
			if (read.status() == Status.DELETED) {
				return followMoves ? follow(id, primary, read) : null;
			}
			if (read.status() == Status.FOUND && (freshest == null || read.session().version() > freshest.version())) {
				freshest = read.session();
			}
		}
		return (freshest != null) ? new Located(id, freshest) : null;
	}

	/** The newest version of the session this server still has queued for its backup. */
	private @Nullable StoredSession queuedHere(String id) {
		BackupWriter.Queued queued = this.backup.queued(id);
		if (queued == null) {
			return null;
		}
		try {
			SessionCodec.Data data = SessionCodec.decodeData(queued.bytes());
			return new StoredSession(data, 0, data.access());
		}
		catch (SessionCodec.CorruptSessionException ex) {
			return null;
		}
	}

	/**
	 * A session found on a node that was down (unreachable, not restarted) a moment ago
	 * may be a stale copy: it may have moved, changed or been logged out meanwhile. Within
	 * the recovery window, each such session is checked once per server against its copies
	 * on the other nodes.
	 * @return the session to serve, {@code null} when it is gone
	 */
	@Nullable Located checkAfterReturn(String id, MemcachedNode node, StoredSession stored) {
		if (!this.epochs.awaitFresh(node) || this.epochs.isRecent(node)) {
			// another server may still be moving sessions off it (or this server cannot
			// tell): every read is checked
			this.checked.invalidate(id);
		}
		else if (!isRecent(this.returnedAt.get(node)) || this.checked.asMap().putIfAbsent(id, Boolean.TRUE) != null) {
			return new Located(id, stored);
		}
		for (MemcachedNode other : this.nodes.othersUp(node)) {
			Read read = this.reader.readBackup(id, other);
			if (read.status() == Status.DELETED && isMovedBack(id, read)) {
				// the tombstone is of an earlier move away from here, and the session has come
				// back since: the copy here is the live one, and the tombstone goes (the
				// mover may not have removed it: that node was down, or the mover died)
				SessionRemover.clearMoveTombstone(this.store, this.nodes, other,
						SessionKeys.backup(this.keys.data(id)), id);
				return new Located(id, stored);
			}
			if (read.status() == Status.DELETED) {
				// the copy here is stale: it gets the tombstone it missed, so that the next
				// request (this server checks each id once) does not find it either
				int expiration = this.lifetime.expiration(SessionLifetime.GRACE.multipliedBy(10));
				boolean settled;
				if (read.movedTo() == null) {
					// a logout wins over anything written since
					settled = this.store.set(node, this.keys.data(id), expiration, SessionCodec.tombstone());
				}
				else if (read.moveRecord() != null) {
					settled = this.settler.settle(id, node, read.movedTo(), read.moveRecord());
				}
				else {
					settled = this.store.cas(node, this.keys.data(id), stored.cas(), expiration,
							SessionCodec.movedTombstone(read.movedTo())).isOk();
				}
				if (!settled) {
					this.checked.invalidate(id);
				}
				return follow(id, node, read);
			}
			if (read.status() == Status.FOUND && read.session().version() > stored.version()) {
				StoredSession newer = read.session();
				return new Located(id, new StoredSession(newer.data(), stored.cas(), newer.access()));
			}
		}
		return new Located(id, stored);
	}

	/**
	 * Whether a move tombstone found elsewhere is of a move the session has undone: the
	 * moves it records lead back here (a server that took the other node for down moved
	 * it back, maybe over more nodes: n1, n2, n3, n1 as the nodes hang one after the
	 * other). Each id on the way is looked up where a move off it is recorded first: next
	 * to its backups on the nodes up (written before the move was answered, while its own
	 * node may still hold the stale copy the mover has yet to replace), then on its node.
	 */
	private boolean isMovedBack(String id, Read tombstone) {
		String movedTo = tombstone.movedTo();
		for (int hop = 0; hop < MAX_HOPS && movedTo != null; hop++) {
			if (movedTo.equals(id)) {
				return true;
			}
			MemcachedNode there = this.idFormat.nodeOf(movedTo);
			if (there == null || !movedTo.equals(this.idFormat.onNode(id, there))) {
				return false;
			}
			movedTo = movedOnFrom(movedTo, there);
		}
		return false;
	}

	/** Where the session moved on from an id, {@code null} when no move off it is recorded. */
	private @Nullable String movedOnFrom(String id, MemcachedNode node) {
		for (MemcachedNode other : this.nodes.othersUp(node)) {
			Read read = this.reader.readBackup(id, other);
			if (read.status() == Status.DELETED) {
				return read.movedTo();
			}
		}
		if (this.nodes.isAvailable(node)) {
			Read read = this.reader.read(id, node);
			if (read.status() == Status.DELETED) {
				return read.movedTo();
			}
		}
		return null;
	}

	private void writeValidity(MemcachedNode node, String key, StoredSession stored) {
		int expiration = this.lifetime
			.expiration(this.lifetime.validityLifetime(stored.data().maxInactiveInterval(), stored.access()));
		this.store.setAsync(node, key, expiration,
				SessionCodec.encodeValidity(new Validity(stored.version(), stored.access())));
	}

	private boolean isRecent(@Nullable Instant instant) {
		return instant != null && this.lifetime.now().isBefore(instant.plus(this.recoveryWindow));
	}

	/**
	 * Another server announced an outage of a node this server may not have seen (see
	 * {@link OutageEpochs}): sessions read from it are checked as after its return.
	 */
	void outageSeen(MemcachedNode node) {
		this.returnedAt.put(node, this.lifetime.now());
		this.checked.invalidateAll();
		topologyChanged();
	}

	@Override
	public void down(MemcachedNode node, String reason) {
		topologyChanged();
	}

	@Override
	public void up(MemcachedNode node, boolean restarted) {
		this.displaced.up(node, restarted);
		if (restarted) {
			this.restartedAt.put(node, this.lifetime.now());
		}
		else {
			this.returnedAt.put(node, this.lifetime.now());
			this.checked.invalidateAll();
		}
		topologyChanged();
	}

	private void topologyChanged() {
		this.topologyChangedAt = this.lifetime.now();
		this.replicated.invalidateAll();
	}

}
