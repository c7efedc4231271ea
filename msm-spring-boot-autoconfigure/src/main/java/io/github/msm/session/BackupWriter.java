package io.github.msm.session;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.session.storage.StoredValue;
import io.github.msm.session.storage.WriteOutcome;
import io.github.msm.session.storage.WriteResult;
import org.jspecify.annotations.Nullable;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Writes the backup copies of sessions on the next node of the ring, so that a late
 * write can neither bring back a deleted session nor replace a newer copy with an older
 * one.
 *
 * <p>
 * Backup writes of different servers reach the backup node in no particular order: a
 * write queued before a logout on another server can arrive after it. So a data write
 * carries the session's version and is applied only over an older version (read, then
 * compare-and-set); a delete leaves a tombstone that no data write replaces. Writes to
 * one node from this server run in the order they were made, on that node's lane (a
 * single thread with a bounded queue, never spymemcached's IO thread), so a hung node
 * delays only its own backups; they run off the request thread unless the backup is
 * configured synchronous, and then after the session's save lock is released (see
 * {@link #defer()}). A full queue or a failed write is counted and logged, never
 * dropped silently.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class BackupWriter implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(BackupWriter.class);

	private static final int QUEUE_CAPACITY = 10_000;

	private static final int ATTEMPTS = 8;

	private static final long WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

	private final MemcachedStore store;

	private final SessionMetrics metrics;

	private final boolean async;

	private final Map<MemcachedNode, ExecutorService> lanes = new ConcurrentHashMap<>();

	private final ThreadLocal<List<Runnable>> deferred = new ThreadLocal<>();

	private volatile boolean closed;

	/** Data writes still queued, by session: the newest version this server holds. */
	private final Map<String, Queued> queued = new ConcurrentHashMap<>();

	/**
	 * A data write waiting in a lane.
	 * @param version its version
	 * @param bytes the data item
	 */
	record Queued(long version, byte[] bytes) {
	}

	private final AtomicLong lastWarning = new AtomicLong(System.nanoTime() - WARN_INTERVAL_NANOS);

	/**
	 * @param store the memcached access
	 * @param async whether backup writes are queued (else they run in the caller's thread)
	 * @param metrics where refused and dropped writes are counted
	 */
	BackupWriter(MemcachedStore store, boolean async, SessionMetrics metrics) {
		this.store = store;
		this.metrics = metrics;
		this.async = async;
	}

	private ExecutorService lane(MemcachedNode node) {
		return this.lanes.computeIfAbsent(node, (key) -> new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
				new ArrayBlockingQueue<>(QUEUE_CAPACITY), (runnable) -> {
					Thread thread = new Thread(runnable, "msm-backup-" + key.id());
					thread.setDaemon(true);
					return thread;
				}));
	}

	/** Backup writes waiting in the lanes, for the {@code msm.backup.queue} gauge. */
	int queueDepth() {
		int depth = 0;
		for (ExecutorService lane : this.lanes.values()) {
			depth += ((ThreadPoolExecutor) lane).getQueue().size();
		}
		return depth;
	}

	/**
	 * Holds back synchronous backup writes this thread makes until the returned handle is
	 * closed, so that they run after the session's save lock is released; with queued
	 * backups it does nothing.
	 */
	Deferred defer() {
		if (this.async || this.deferred.get() != null) {
			return () -> {
			};
		}
		List<Runnable> writes = new ArrayList<>(2);
		this.deferred.set(writes);
		return () -> {
			this.deferred.remove();
			writes.forEach(Runnable::run);
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
		Queued pending = new Queued(version, bytes);
		if (this.async) {
			this.queued.merge(sessionId, pending, (a, b) -> (b.version() >= a.version()) ? b : a);
		}
		submit(sessionId, node, () -> {
			try {
				writeVersioned(sessionId, node, key, version, expiration, bytes);
			}
			finally {
				this.queued.remove(sessionId, pending);
			}
		});
	}

	/**
	 * The newest data write of a session still queued on this server, so that a failover
	 * read never takes an older copy than this server wrote.
	 */
	@Nullable Queued queued(String sessionId) {
		return this.queued.get(sessionId);
	}

	private void writeVersioned(String sessionId, MemcachedNode node, String key, long version, int expiration,
			byte[] bytes) {
		{
			for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
				StoredValue current = this.store.get(node, key);
				WriteOutcome outcome;
				if (current == null) {
					outcome = this.store.add(node, key, expiration, bytes);
				}
				else if (SessionCodec.versionOf(current.bytes()) > version) {
					this.metrics.backupRefused();
					return;
				}
				else {
					outcome = this.store.cas(node, key, current.cas(), expiration, bytes);
				}
				if (outcome.isOk()) {
					return;
				}
				if (outcome.result() == WriteResult.FAILED) {
					break;
				}
			}
			dropped("data of session " + sessionId, node);
		}
	}

	/**
	 * Replaces a session's backup data item with a tombstone, after this server's
	 * earlier backup writes of the session.
	 */
	void writeTombstone(String sessionId, MemcachedNode node, String key, int expiration, byte[] tombstone) {
		submit(sessionId, node, () -> {
			if (!this.store.set(node, key, expiration, tombstone)) {
				dropped("tombstone of session " + sessionId, node);
			}
		});
	}

	/** Writes an item that needs no version check (the validity item carries its own). */
	void set(String sessionId, MemcachedNode node, String key, int expiration, byte[] bytes) {
		submit(sessionId, node, () -> this.store.setAsync(node, key, expiration, bytes));
	}

	void delete(String sessionId, MemcachedNode node, String key) {
		submit(sessionId, node, () -> this.store.deleteAsync(node, key));
	}

	private void submit(String sessionId, MemcachedNode node, Runnable write) {
		if (!this.async) {
			List<Runnable> held = this.deferred.get();
			if (held != null) {
				held.add(write);
			}
			else {
				write.run();
			}
			return;
		}
		if (this.closed) {
			dropped("write of session " + sessionId + " (store closed)", node);
			return;
		}
		try {
			lane(node).execute(write);
		}
		catch (RejectedExecutionException ex) {
			dropped("write of session " + sessionId + " (backup queue full)", null);
		}
	}

	private void dropped(String what, MemcachedNode node) {
		this.metrics.backupDropped();
		long now = System.nanoTime();
		long last = this.lastWarning.get();
		if (now - last >= WARN_INTERVAL_NANOS && this.lastWarning.compareAndSet(last, now)) {
			logger.warn("Backup " + what + ((node != null) ? " on node " + node : "")
					+ " was not stored; the primary copy is intact (further failures in the next 10 s are only counted"
					+ " in msm.backup.write.dropped)");
		}
		else if (logger.isDebugEnabled()) {
			logger.debug("Backup " + what + " was not stored");
		}
	}

	/** Waits (boundedly) for queued backup writes, so a graceful shutdown loses none. */
	@Override
	public void close() {
		this.closed = true;
		for (ExecutorService lane : this.lanes.values()) {
			lane.shutdown();
		}
		for (ExecutorService lane : this.lanes.values()) {
			try {
				if (!lane.awaitTermination(5, TimeUnit.SECONDS)) {
					logger.warn("Backup writes still queued at shutdown were abandoned");
					lane.shutdownNow();
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	/** Waits until every backup write queued so far has run; for tests. */
	void flush() {
		for (ExecutorService lane : this.lanes.values()) {
			try {
				lane.submit(() -> {
				}).get(10, TimeUnit.SECONDS);
			}
			catch (Exception ex) {
				throw new IllegalStateException("backup lane did not drain", ex);
			}
		}
	}

}
