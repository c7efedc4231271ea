package io.github.msm.session;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import io.github.msm.session.node.MemcachedNode;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * This server's queue of backup writes to one node, and the thread that drains it.
 *
 * <p>
 * The lane holds at most one write per key: a newer write of a key replaces the pending
 * one (see {@link PendingBackup#merge}), so a session that changes faster than its
 * backup is written costs one backup write per batch, not one per change. The thread
 * takes up to {@value #MAX_BATCH} keys at a time, oldest first, and sends them together
 * (see {@link BackupSender}); the next batch starts when every write of this one was
 * answered, so that writes of one key reach the node in the order they were made. A
 * hung node delays only its own lane, and never spymemcached's IO thread. A write stays
 * in the lane (and visible to {@link #queued}) until it was answered or dropped, and not
 * a moment longer.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class BackupLane {

	private static final Log logger = LogFactory.getLog(BackupLane.class);

	static final int MAX_BATCH = 512;

	/**
	 * How many times its capacity a lane may hold when the write is a tombstone or a
	 * delete: a full lane drops data writes (the primary copy is intact), but a dropped
	 * tombstone would leave a logged-out session on the backup for a failover to bring
	 * back. Removals are rare next to data writes, so the headroom bounds memory all the
	 * same.
	 */
	static final int REMOVAL_HEADROOM = 2;

	private final MemcachedNode node;

	private final BackupSender sender;

	private final int capacity;

	private final ReentrantLock lock = new ReentrantLock();

	private final Condition changed = this.lock.newCondition();

	/** Unsent writes by key, oldest first. */
	private final LinkedHashMap<String, PendingBackup> pending = new LinkedHashMap<>();

	/** The batch being sent. */
	private List<PendingBackup> inFlight = List.of();

	/** The newest data write of each session, unsent or being sent. */
	private final Map<String, PendingBackup> newestData = new HashMap<>();

	/**
	 * When the oldest write not yet answered was made ({@link System#nanoTime()}); 0 when
	 * the lane is empty. Written under the lock, read without it for every write.
	 */
	private volatile long oldestSince;

	/** Whether the thread waits for writes (so that only then a write wakes it). */
	private boolean idle;

	private boolean closed;

	private @Nullable CountDownLatch hold;

	private final Thread thread;

	/**
	 * Starts the lane's thread.
	 * @param node the backup node
	 * @param sender what sends the batches
	 * @param capacity how many keys may wait; more writes are dropped (counted), except
	 * tombstones and deletes, which may use {@value #REMOVAL_HEADROOM} times as many
	 */
	BackupLane(MemcachedNode node, BackupSender sender, int capacity) {
		this.node = node;
		this.sender = sender;
		this.capacity = capacity;
		this.thread = new Thread(this::drain, "msm-backup-" + node.id());
		this.thread.setDaemon(true);
		this.thread.start();
	}

	/**
	 * Queues a write, merged into the pending write of its key if there is one.
	 * @return the pending write that now carries it (to wait for), {@code null} when the
	 * write was refused or dropped (counted)
	 */
	@Nullable PendingBackup add(PendingBackup write) {
		String what = null;
		this.lock.lock();
		try {
			if (this.closed) {
				what = write.describe() + " (store closed)";
			}
			else {
				PendingBackup existing = this.pending.get(write.key());
				if (existing != null) {
					if (!existing.merge(write)) {
						this.sender.refused();
						return null;
					}
					index(existing);
					return existing;
				}
				if (this.pending.size() < this.capacity
						|| (write.isRemoval() && this.pending.size() < this.capacity * REMOVAL_HEADROOM)) {
					if (this.pending.isEmpty() && this.inFlight.isEmpty()) {
						this.oldestSince = write.since();
					}
					this.pending.put(write.key(), write);
					index(write);
					if (this.idle) {
						this.changed.signal();
					}
					return write;
				}
				what = write.describe() + " (backup queue full)";
			}
		}
		finally {
			this.lock.unlock();
		}
		this.sender.dropped(what, this.node);
		write.finished();
		return null;
	}

	private void index(PendingBackup write) {
		if (write.kind() == PendingBackup.Kind.DATA) {
			this.newestData.put(write.sessionId(), write);
		}
		else {
			this.newestData.remove(write.sessionId(), write);
		}
	}

	/** The newest data write of the session still unsent or being sent, as it is now. */
	BackupWriter.@Nullable Queued queued(String sessionId) {
		this.lock.lock();
		try {
			PendingBackup write = this.newestData.get(sessionId);
			return (write != null && write.bytes() != null) ? new BackupWriter.Queued(write.version(), write.bytes())
					: null;
		}
		finally {
			this.lock.unlock();
		}
	}

	/** Writes unsent or being sent. */
	int depth() {
		this.lock.lock();
		try {
			return this.pending.size() + this.inFlight.size();
		}
		finally {
			this.lock.unlock();
		}
	}

	/** Records of data writes held for {@link #queued}; for tests. */
	int queuedRecords() {
		this.lock.lock();
		try {
			return this.newestData.size();
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * How long the oldest write not yet answered has waited, in nanoseconds; 0 when the
	 * lane is empty.
	 */
	long lagNanos() {
		long oldest = this.oldestSince;
		return (oldest != 0) ? Math.max(0, System.nanoTime() - oldest) : 0;
	}

	private void drain() {
		List<PendingBackup> batch;
		while ((batch = take()) != null) {
			try {
				this.sender.send(this.node, batch);
			}
			catch (RuntimeException ex) {
				logger.warn("Backup writes to node " + this.node + " failed", ex);
				batch.forEach((write) -> this.sender.dropped(write.describe(), this.node));
			}
			finally {
				finish(batch);
			}
		}
	}

	/** The next batch, oldest first; {@code null} once the lane is closed and empty. */
	private @Nullable List<PendingBackup> take() {
		this.lock.lock();
		try {
			while ((this.pending.isEmpty() || isHeld()) && !this.closed) {
				this.idle = true;
				this.changed.await(isHeld() ? 10 : 1000, TimeUnit.MILLISECONDS);
				this.idle = false;
			}
			if (this.pending.isEmpty()) {
				return null;
			}
			List<PendingBackup> batch = new ArrayList<>(Math.min(MAX_BATCH, this.pending.size()));
			Iterator<PendingBackup> writes = this.pending.values().iterator();
			while (writes.hasNext() && batch.size() < MAX_BATCH) {
				batch.add(writes.next());
				writes.remove();
			}
			this.inFlight = batch;
			return batch;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return null;
		}
		finally {
			this.lock.unlock();
		}
	}

	private void finish(List<PendingBackup> batch) {
		this.lock.lock();
		try {
			for (PendingBackup write : batch) {
				this.newestData.remove(write.sessionId(), write);
			}
			this.inFlight = List.of();
			this.oldestSince = this.pending.isEmpty() ? 0 : this.pending.values().iterator().next().since();
		}
		finally {
			this.lock.unlock();
		}
		batch.forEach(PendingBackup::finished);
	}

	private boolean isHeld() {
		CountDownLatch hold = this.hold;
		if (hold != null && hold.getCount() == 0) {
			this.hold = null;
		}
		return this.hold != null;
	}

	/** Holds the lane (no new batch starts) until the latch opens; for tests. */
	void hold(CountDownLatch release) {
		this.lock.lock();
		try {
			this.hold = release;
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Waits until every write queued so far was answered or dropped.
	 * @return {@code false} when the time ran out first
	 */
	boolean flush(long nanos) {
		List<PendingBackup> queued;
		this.lock.lock();
		try {
			queued = new ArrayList<>(this.pending.values());
			queued.addAll(this.inFlight);
		}
		finally {
			this.lock.unlock();
		}
		long deadline = System.nanoTime() + nanos;
		for (PendingBackup write : queued) {
			if (!write.await(deadline - System.nanoTime())) {
				return false;
			}
		}
		return true;
	}

	/** Takes no more writes; the thread sends what is queued, then ends. */
	void close() {
		this.lock.lock();
		try {
			this.closed = true;
			this.hold = null;
			this.changed.signalAll();
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Waits for the thread to send what was queued before {@link #close}; drops (counts)
	 * what is still unsent when the time runs out.
	 * @return how many writes were dropped
	 */
	int awaitDrained(long nanos) {
		try {
			this.thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos)));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		List<PendingBackup> abandoned;
		this.lock.lock();
		try {
			abandoned = new ArrayList<>(this.pending.values());
			this.pending.clear();
			this.oldestSince = this.inFlight.isEmpty() ? 0 : this.inFlight.get(0).since();
			abandoned.forEach((write) -> this.newestData.remove(write.sessionId(), write));
		}
		finally {
			this.lock.unlock();
		}
		for (PendingBackup write : abandoned) {
			this.sender.dropped(write.describe() + " (store closed)", this.node);
			write.finished();
		}
		return abandoned.size();
	}

}
