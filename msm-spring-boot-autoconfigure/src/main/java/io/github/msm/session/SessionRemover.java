package io.github.msm.session;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeAvailability;
import io.github.msm.session.node.NodeSelector;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.session.storage.StoredValue;
import io.github.msm.session.storage.WriteResult;
import org.jspecify.annotations.Nullable;

/**
 * Removes sessions so that they stay removed: deleted sessions and the old ids of renamed
 * or moved sessions leave tombstones where a late write could otherwise bring them back
 * (backup copies, and the old primary of a moved session once it is up again).
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class SessionRemover implements NodeAvailability.Listener {

	/** Old ids remembered per down node, at most; beyond that the oldest are forgotten. */
	private static final int MAX_PENDING = 100_000;

	private final MemcachedStore store;

	private final NodeSelector nodes;

	private final SessionKeys keys;

	private final SessionLifetime lifetime;

	private final BackupWriter backup;

	private final OutageEpochs epochs;

	private final Map<MemcachedNode, Queue<Pending>> pending = new ConcurrentHashMap<>();

	private volatile @Nullable MoveSettler settler;

	/**
	 * A tombstone for a node that was down when it was due.
	 * @param dataKey the key it replaces
	 * @param validityKey the validity key that goes with it
	 * @param tombstone the bytes
	 * @param move for the old id of a moved session on its old node: what replaces it
	 * conditionally; {@code null} for a tombstone written as is
	 * @param movedBack instead of a tombstone: the id of a session that moved back to it,
	 * whose earlier move's tombstone under {@code dataKey} goes (see {@link #movedBack})
	 * @param primary with {@code movedBack}: the node the session moved back to
	 */
	private record Pending(String dataKey, String validityKey, byte[] tombstone, @Nullable Move move,
			@Nullable String movedBack, @Nullable MemcachedNode primary) {

		Pending(String dataKey, String validityKey, byte[] tombstone) {
			this(dataKey, validityKey, tombstone, null, null, null);
		}

		Pending(String dataKey, String validityKey, byte[] tombstone, @Nullable Move move) {
			this(dataKey, validityKey, tombstone, move, null, null);
		}

		static Pending movedBack(String backupKey, String id, MemcachedNode primary) {
			return new Pending(backupKey, backupKey, new byte[0], null, id, primary);
		}

	}

	/**
	 * A move whose old id is still to be replaced on its old node.
	 * @param oldId the old id
	 * @param newId the new id
	 * @param record what the mover moved
	 */
	private record Move(String oldId, String newId, SessionCodec.MovedRecord record) {
	}

	SessionRemover(MemcachedStore store, NodeSelector nodes, SessionKeys keys, SessionLifetime lifetime,
			BackupWriter backup, OutageEpochs epochs) {
		this.epochs = epochs;
		this.store = store;
		this.nodes = nodes;
		this.keys = keys;
		this.lifetime = lifetime;
		this.backup = backup;
	}

	/**
	 * Sets what replaces the old id of a moved session on its old node (built after the
	 * writer, which needs this remover).
	 */
	void settleMovesWith(MoveSettler settler) {
		this.settler = settler;
	}

	/**
	 * Deletes a session: a tombstone replaces its data item on the primary (so that a
	 * request that read it before, on any server, cannot store it again, not even under a
	 * moved id) and its backup copies on every node that is up. A primary that is down
	 * gets its tombstone as soon as it is up again; until then the tombstones on the other
	 * nodes are what ends the session, so they are written before this returns (a server
	 * that dies right after loses nothing, and any server that reads the session from its
	 * node once it is back finds them).
	 * @return what became of the data item on the primary
	 */
	WriteResult delete(String id, MemcachedNode node, Duration interval) {
		int expiration = this.lifetime.expiration(SessionLifetime.tombstoneLifetime(interval));
		this.store.deleteAsync(node, this.keys.validity(id));
		boolean tombstoned = this.store.set(node, this.keys.data(id), expiration, SessionCodec.tombstone());
		tombstoneCopies(id, node, SessionCodec.tombstone(), interval, !tombstoned);
		if (!tombstoned) {
			remember(node, this.keys.data(id), this.keys.validity(id), SessionCodec.tombstone());
			// servers that take the node for up must learn that its copy is stale
			this.epochs.announce(node);
			return WriteResult.FAILED;
		}
		return WriteResult.OK;
	}

	/**
	 * Replaces the backup copies of a session on every node but its primary: now where
	 * the node is up, as soon as it is up again where it is not (it may hold a copy a
	 * backup write put there before it went away).
	 * @param durable whether the tombstones must be stored before this returns (they are
	 * the only record of a logout or a move while the primary is down); else they are
	 * queued behind this server's earlier backup writes of the session
	 */
	private void tombstoneCopies(String id, MemcachedNode primary, byte[] tombstone, Duration interval,
			boolean durable) {
		int expiration = this.lifetime.expiration(SessionLifetime.tombstoneLifetime(interval));
		String dataKey = SessionKeys.backup(this.keys.data(id));
		String validityKey = SessionKeys.backup(this.keys.validity(id));
		for (MemcachedNode other : this.nodes.ring().nodes()) {
			if (other.equals(primary)) {
				continue;
			}
			if (!this.nodes.isAvailable(other)) {
				remember(other, dataKey, validityKey, tombstone);
			}
			else if (durable) {
				// a queued data write of this server that lands later is refused: a
				// tombstone's version is above any
				if (!this.store.set(other, dataKey, expiration, tombstone)) {
					remember(other, dataKey, validityKey, tombstone);
				}
				this.store.deleteAsync(other, validityKey);
			}
			else {
				this.backup.writeTombstone(id, other, dataKey, expiration, tombstone);
				this.backup.delete(id, other, validityKey);
			}
		}
	}

	/**
	 * Makes an id unusable on a node: for the id a login's session would take if it moved
	 * there, so that a request that read the pre-login session cannot bring it back there.
	 */
	void block(String id, MemcachedNode node, Duration interval) {
		int expiration = this.lifetime.expiration(SessionLifetime.tombstoneLifetime(interval));
		this.store.set(node, this.keys.data(id), expiration, SessionCodec.tombstone());
	}

	/** Deletes without waiting, for sessions found expired or corrupt. */
	void deleteAsync(String id, MemcachedNode node) {
		MemcachedNode backupNode = this.nodes.backupOf(node);
		for (String key : new String[] { this.keys.data(id), this.keys.validity(id) }) {
			this.store.deleteAsync(node, key);
			if (backupNode != null) {
				this.backup.delete(id, backupNode, SessionKeys.backup(key));
			}
		}
	}

	/** After a rename on a node that is up (the old data item is a tombstone already). */
	void renamed(String oldId, MemcachedNode node, Duration interval) {
		this.store.deleteAsync(node, this.keys.validity(oldId));
		tombstoneCopies(oldId, node, SessionCodec.tombstone(), interval, false);
	}

	/**
	 * After a session moved off a node: every copy under the old id goes, on every node
	 * that is up (before this returns: the record of the move must outlive this server),
	 * and the old node gets its tombstone (now if it is up, else as soon as it
	 * is up again), so that a stale copy there can never be served under the old id. The
	 * tombstone of a move replaces only the version that was moved: a write another server
	 * made under the old id since is merged into the moved session (see
	 * {@link MoveSettler}).
	 * @param newId where readers of the old id are sent; {@code null} when they must find
	 * nothing (the move was also a {@code changeSessionId}: the old id must die)
	 * @param moved the version of the session under the old id that was moved
	 */
	void moved(String oldId, @Nullable String newId, MemcachedNode oldNode, Duration interval,
			SessionCodec.@Nullable Data moved) {
		Move move = (newId != null && moved != null)
				? new Move(oldId, newId, SessionCodec.MovedRecord.of(moved)) : null;
		byte[] tombstone = (move != null) ? SessionCodec.movedRecord(newId, move.record())
				: (newId != null) ? SessionCodec.movedTombstone(newId) : SessionCodec.tombstone();
		tombstoneCopies(oldId, oldNode, tombstone, interval, true);
		Pending due = new Pending(this.keys.data(oldId), this.keys.validity(oldId), tombstone, move);
		if (!this.nodes.isAvailable(oldNode) || !replace(due, oldNode)) {
			remember(oldNode, due);
			// servers that take the old node for up must learn that its copy is stale
			this.epochs.announce(oldNode);
		}
	}

	/**
	 * After a session moved back to an id it had before (its data item there replaced the
	 * tombstone of its earlier move): the tombstones that move left next to the backup
	 * copies of the id on the other nodes go too, each only if it still is that tombstone
	 * (a compare-and-set on what was read; a logout's or a newer move's stays). Else the
	 * backup writes of the id are refused over it (a tombstone's version is above any),
	 * and a failover or an outage check that meets it takes the live session for moved
	 * away. A node that is down gets this as soon as it is up again.
	 * @param id the id the session has again
	 * @param primary the node it is on
	 */
	void movedBack(String id, MemcachedNode primary) {
		String dataKey = SessionKeys.backup(this.keys.data(id));
		for (MemcachedNode other : this.nodes.ring().nodes()) {
			if (other.equals(primary)) {
				continue;
			}
			if (!this.nodes.isAvailable(other) || !clearMoveTombstone(this.store, this.nodes, other, dataKey, id)) {
				remember(other, Pending.movedBack(dataKey, id, primary));
			}
		}
	}

	/**
	 * Removes an earlier move's tombstone of the session under a backup key.
	 * @return whether it is done (nothing of the kind is there now); {@code false} when
	 * the node failed
	 */
	static boolean clearMoveTombstone(MemcachedStore store, NodeSelector nodes, MemcachedNode node, String backupKey,
			String id) {
		for (int attempt = 0; attempt < 4; attempt++) {
			StoredValue value = store.get(node, backupKey);
			if (value == null) {
				return nodes.isAvailable(node);
			}
			if (!SessionCodec.isTombstone(value.bytes()) || !isMoveOfSameSession(value.bytes(), id)) {
				return true;
			}
			// the text protocol has no delete with a token: a compare-and-set with a negative
			// expiration is one (memcached stores the item already expired)
			WriteResult result = store.canDeleteIfUnchanged() ? store.deleteIfUnchanged(node, backupKey, value.cas())
					: store.cas(node, backupKey, value.cas(), -1, value.bytes()).result();
			if (result != WriteResult.CONFLICT) {
				return result != WriteResult.FAILED;
			}
		}
		return true;
	}

	/** Whether the session's data under the id on its node is live data, not a tombstone or gone. */
	private boolean isLiveUnder(String id, MemcachedNode primary) {
		StoredValue value = this.store.get(primary, this.keys.data(id));
		return value != null && !SessionCodec.isTombstone(value.bytes());
	}

	/** Whether a tombstone says that the session of this id (same base) moved to another of its ids. */
	private static boolean isMoveOfSameSession(byte[] tombstone, String id) {
		String movedTo = SessionCodec.movedTo(tombstone);
		int base = SessionIdFormat.BASE_LENGTH;
		return movedTo != null && !movedTo.equals(id) && movedTo.length() > base && id.length() > base
				&& movedTo.regionMatches(0, id, 0, base + 1);
	}

	private void remember(MemcachedNode node, String dataKey, String validityKey, byte[] tombstone) {
		remember(node, new Pending(dataKey, validityKey, tombstone));
	}

	private void remember(MemcachedNode node, Pending due) {
		Queue<Pending> queue = this.pending.computeIfAbsent(node, (key) -> new ArrayDeque<>());
		synchronized (queue) {
			if (queue.size() >= MAX_PENDING) {
				queue.poll();
			}
			queue.add(due);
		}
	}

	/**
	 * Writes a due tombstone: the old id of a move conditionally, any other as is.
	 * @return whether it is written (else it stays due)
	 */
	private boolean replace(Pending due, MemcachedNode node) {
		if (due.movedBack() != null && due.primary() != null) {
			// late: only while the session still lives under the id it moved back to; once it
			// moved away again (or ended), the tombstone there may be that newer move's
			return !isLiveUnder(due.movedBack(), due.primary())
					|| clearMoveTombstone(this.store, this.nodes, node, due.dataKey(), due.movedBack());
		}
		MoveSettler settler = this.settler;
		if (due.move() != null && settler != null) {
			Move move = due.move();
			return settler.settle(move.oldId(), node, move.newId(), move.record());
		}
		// awaited: a node that just came back may drop its connection once more
		int expiration = this.lifetime.expiration(SessionLifetime.GRACE.multipliedBy(10));
		if (!this.store.set(node, due.dataKey(), expiration, due.tombstone())) {
			return false;
		}
		this.store.deleteAsync(node, due.validityKey());
		return true;
	}

	@Override
	public void down(MemcachedNode node, String reason) {
	}

	@Override
	public void up(MemcachedNode node, boolean restarted) {
		Queue<Pending> queue = this.pending.remove(node);
		if (queue == null) {
			return;
		}
		// off the availability's lock: sending many writes may block on a full queue
		java.util.concurrent.CompletableFuture.runAsync(() -> {
			synchronized (queue) {
				for (Pending due : queue) {
					if (!this.nodes.isAvailable(node) || !replace(due, node)) {
						remember(node, due);
					}
				}
			}
		});
	}

	private void tombstone(String dataKey, String validityKey, byte[] tombstone, MemcachedNode node) {
		int expiration = this.lifetime.expiration(SessionLifetime.GRACE.multipliedBy(10));
		this.store.setAsync(node, dataKey, expiration, tombstone);
		this.store.deleteAsync(node, validityKey);
	}


}
