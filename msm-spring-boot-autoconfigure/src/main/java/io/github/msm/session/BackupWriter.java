package io.github.msm.session;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.storage.MemcachedStore;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * Writes the backup copies of sessions on the next node of the ring, so that a late
 * write can neither bring back a deleted session nor replace a newer copy with an older
 * one, and so that the backup never falls far behind the primary.
 *
 * <p>
 * Backup writes of different servers reach the backup node in no particular order: a
 * write queued before a logout on another server can arrive after it. So a data write
 * carries the session's version and is applied only over an older version; a delete
 * leaves a tombstone that no data write replaces (see {@link BackupSender}).
 *
 * <p>
 * Queued ({@code backupAsync}), the writes to one node go through that node's
 * {@link BackupLane}: one pending write per key, sent in pipelined batches. The lane's
 * lag (the age of its oldest write not yet answered) is bounded: when it exceeds
 * {@code maxLag}, the request that queues a write waits for that write (after the save
 * lock is released, see {@link #defer()}) instead of letting the queue grow, so that a
 * primary that dies loses at most the writes of about the last {@code maxLag}, however
 * high the load. A tombstone (logout, rename) is always waited for, so that no failover
 * can bring back a session whose logout was acknowledged. Synchronous, the writes are
 * sent by the request itself after the save
 * lock is released. A full lane or a failed write is counted and logged, never dropped
 * silently.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class BackupWriter implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(BackupWriter.class);

	/**
	 * How many keys a lane holds before further data writes are dropped (counted); see
	 * {@link BackupLane#REMOVAL_HEADROOM} for tombstones and deletes.
	 */
	static final int LANE_CAPACITY = 10_000;

	private static final Deferred NOTHING_DEFERRED = () -> {
	};

	private final BackupSender sender;

	private final boolean async;

	private final long maxLagNanos;

	private final long maxWaitNanos;

	private final Map<MemcachedNode, BackupLane> lanes = new ConcurrentHashMap<>();

	private final ThreadLocal<Deferral> deferred = new ThreadLocal<>();

	private volatile boolean closed;

	/** Told of every data write, to remember those away from their regular node. */
	private volatile @Nullable DisplacedBackups displaced;

	/**
	 * A data write not yet stored on the backup.
	 * @param version its version
	 * @param bytes the data item
	 */
	record Queued(long version, byte[] bytes) {
	}

	/**
	 * @param store the memcached access
	 * @param async whether backup writes are queued (else they run in the caller's thread)
	 * @param maxLag how far a lane may fall behind before requests wait for their backup
	 * @param metrics where refused and dropped writes are counted
	 */
	BackupWriter(MemcachedStore store, boolean async, Duration maxLag, SessionMetrics metrics) {
		this.sender = new BackupSender(store, metrics);
		this.async = async;
		this.maxLagNanos = maxLag.toNanos();
		// a lane answers within the operation timeout per batch, or its node goes down
		this.maxWaitNanos = maxLag.plus(store.operationTimeout().multipliedBy(3)).toNanos();
	}

	/** Has backup data writes that go elsewhere while their regular node is down remembered. */
	void rememberDisplaced(DisplacedBackups displaced) {
		this.displaced = displaced;
	}

	private BackupLane lane(MemcachedNode node) {
		BackupLane lane = this.lanes.computeIfAbsent(node, (key) -> new BackupLane(key, this.sender, LANE_CAPACITY));
		if (this.closed) {
			// made while the writer closed: it takes no writes, and its thread ends
			lane.close();
		}
		return lane;
	}

	/** Backup writes waiting in the lanes or being sent, for the {@code msm.backup.queue} gauge. */
	int queueDepth() {
		int depth = 0;
		for (BackupLane lane : this.lanes.values()) {
			depth += lane.depth();
		}
		return depth;
	}

	/**
	 * The age of the oldest backup write not yet answered, over all lanes, for the
	 * {@code msm.backup.lag} gauge.
	 */
	Duration lag() {
		long lag = 0;
		for (BackupLane lane : this.lanes.values()) {
			lag = Math.max(lag, lane.lagNanos());
		}
		return Duration.ofNanos(lag);
	}

	/**
	 * Holds back what this thread's backup writes need until the returned handle is
	 * closed, so that it happens after the session's save lock is released: synchronous
	 * writes are sent then, and a request whose lane is behind waits for its queued writes
	 * then.
	 */
	Deferred defer() {
		if (this.deferred.get() != null) {
			return NOTHING_DEFERRED;
		}
		Deferral deferral = new Deferral();
		this.deferred.set(deferral);
		return () -> {
			this.deferred.remove();
			deferral.run();
		};
	}

	/** Runs the held-back writes when closed. */
	interface Deferred extends AutoCloseable {

		@Override
		void close();

	}

	/**
	 * Writes a version of a session's data item, unless the backup holds that version's
	 * successor or a tombstone already. The same version is written again, which renews
	 * its expiration.
	 * @param sessionId the session, whose writes stay in order
	 * @param node the backup node
	 * @param key the backup key
	 * @param version the version the bytes hold
	 * @param expiration memcached expiration
	 * @param bytes the data item
	 */
	void writeData(String sessionId, MemcachedNode node, String key, long version, int expiration, byte[] bytes) {
		DisplacedBackups displaced = this.displaced;
		if (displaced != null) {
			displaced.written(sessionId, node, key, version);
		}
		write(node, new PendingBackup(sessionId, key, PendingBackup.Kind.DATA, version, expiration, bytes,
				System.nanoTime()));
	}

	/**
	 * The newest data write of a session not yet stored on its backup, so that a failover
	 * read never takes an older copy than this server wrote.
	 */
	@Nullable Queued queued(String sessionId) {
		Queued newest = null;
		for (BackupLane lane : this.lanes.values()) {
			Queued queued = lane.queued(sessionId);
			if (queued != null && (newest == null || queued.version() > newest.version())) {
				newest = queued;
			}
		}
		return newest;
	}

	/**
	 * Replaces a session's backup data item with a tombstone, after this server's
	 * earlier backup writes of the session.
	 */
	void writeTombstone(String sessionId, MemcachedNode node, String key, int expiration, byte[] tombstone) {
		set(sessionId, node, key, expiration, tombstone);
	}

	/** Writes an item that needs no version check (the validity item carries its own). */
	void set(String sessionId, MemcachedNode node, String key, int expiration, byte[] bytes) {
		write(node, new PendingBackup(sessionId, key, PendingBackup.Kind.SET, 0, expiration, bytes, System.nanoTime()));
	}

	void delete(String sessionId, MemcachedNode node, String key) {
		write(node, new PendingBackup(sessionId, key, PendingBackup.Kind.DELETE, 0, 0, null, System.nanoTime()));
	}

	private void write(MemcachedNode node, PendingBackup write) {
		Deferral deferral = this.deferred.get();
		if (!this.async) {
			if (deferral != null) {
				deferral.hold(node, write);
			}
			else {
				this.sender.send(node, List.of(write));
			}
			return;
		}
		if (this.closed) {
			this.sender.dropped(write.describe() + " (store closed)", node);
			return;
		}
		BackupLane lane = lane(node);
		PendingBackup carrier = lane.add(write);
		if (carrier != null && (write.isTombstone() || lane.lagNanos() > this.maxLagNanos)) {
			// a tombstone is waited for at once: a primary that died before it reached the
			// backup would let a failover bring the logged-out session back
			if (deferral != null) {
				deferral.await(carrier);
			}
			else {
				carrier.await(this.maxWaitNanos);
			}
		}
	}

	/** Waits (boundedly) for queued backup writes, so a graceful shutdown loses none. */
	@Override
	public void close() {
		this.closed = true;
		this.lanes.values().forEach(BackupLane::close);
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
		int abandoned = 0;
		for (BackupLane lane : this.lanes.values()) {
			abandoned += lane.awaitDrained(deadline - System.nanoTime());
		}
		if (abandoned > 0) {
			logger.warn(abandoned + " backup writes still queued at shutdown were abandoned (counted in"
					+ " msm.backup.write.dropped)");
		}
	}

	/** Waits until every backup write queued so far was answered or dropped; for tests. */
	void flush() {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
		for (BackupLane lane : this.lanes.values()) {
			if (!lane.flush(deadline - System.nanoTime())) {
				throw new IllegalStateException("backup lane did not drain");
			}
		}
	}

	/** Holds the lane of a node (no batch starts) until the latch opens; for tests. */
	void holdLane(MemcachedNode node, CountDownLatch release) {
		lane(node).hold(release);
	}

	/** Records of data writes kept for {@link #queued}, over all lanes; for tests. */
	int queuedRecords() {
		return this.lanes.values().stream().mapToInt(BackupLane::queuedRecords).sum();
	}

	/**
	 * What a thread's backup writes leave for after the save lock: synchronous writes
	 * (merged per key, sent in one batch per node) and queued writes to wait for.
	 */
	private final class Deferral {

		private final Map<MemcachedNode, LinkedHashMap<String, PendingBackup>> held = new LinkedHashMap<>();

		private final List<PendingBackup> awaited = new ArrayList<>(2);

		void hold(MemcachedNode node, PendingBackup write) {
			Map<String, PendingBackup> writes = this.held.computeIfAbsent(node, (key) -> new LinkedHashMap<>());
			PendingBackup existing = writes.get(write.key());
			if (existing == null) {
				writes.put(write.key(), write);
			}
			else if (!existing.merge(write)) {
				BackupWriter.this.sender.refused();
			}
		}

		void await(PendingBackup write) {
			this.awaited.add(write);
		}

		void run() {
			this.held.forEach((node, writes) -> BackupWriter.this.sender.send(node, new ArrayList<>(writes.values())));
			long deadline = System.nanoTime() + BackupWriter.this.maxWaitNanos;
			for (PendingBackup write : this.awaited) {
				write.await(deadline - System.nanoTime());
			}
		}

	}

}
