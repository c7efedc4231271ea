package io.github.msm.session.lock;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import io.github.msm.session.log.SessionIdTag;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.session.storage.StoredValue;
import io.github.msm.session.storage.WriteOutcome;
import io.github.msm.session.storage.WriteResult;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * The lock items in memcached: {@code lock:<prefix><base>} on the node
 * {@link LockPlacement} picks, holding a random owner token. Taken by {@code add},
 * extended and released by compare-and-set of our own item only (see
 * {@link SessionLocks} for the protocol).
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class LockItems implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(SessionLocks.class);

	private static final byte[] RELEASED = "released".getBytes(StandardCharsets.US_ASCII);

	private static final long FIRST_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

	private static final long MAX_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

	private final MemcachedStore store;

	private final LockPlacement placement;

	private final String keyPrefix;

	private final int expirationSeconds;

	private final SessionLockMetrics metrics;

	private final ScheduledThreadPoolExecutor extender;

	LockItems(MemcachedStore store, LockPlacement placement, String keyPrefix, int expirationSeconds,
			SessionLockMetrics metrics) {
		this.store = store;
		this.placement = placement;
		this.keyPrefix = keyPrefix;
		this.expirationSeconds = expirationSeconds;
		this.metrics = metrics;
		this.extender = new ScheduledThreadPoolExecutor(1, (task) -> {
			Thread thread = new Thread(task, "msm-lock-extender");
			thread.setDaemon(true);
			return thread;
		});
		this.extender.setRemoveOnCancelPolicy(true);
	}

	String key(String base) {
		return SessionLocks.key(this.keyPrefix, base);
	}

	/** What {@link #take} gave: the outcome, and where and with which CAS token we hold it. */
	record Taken(SessionLock.Outcome outcome, @Nullable MemcachedNode node, long cas) {
	}

	/**
	 * Takes the session's lock item, polling with jittered back-off while another holds
	 * it. A node that fails the {@code add} and is thereby marked down is left for the
	 * next node up, where every other server looks too; a node that fails but stays up
	 * (it refused the call) gives {@code UNAVAILABLE}, since other servers still lock
	 * there.
	 * @param base the session's base
	 * @param token our owner token
	 * @param deadline until when to try, a {@link System#nanoTime()} value
	 */
	Taken take(String base, byte[] token, long deadline) {
		String key = key(base);
		long backoff = FIRST_BACKOFF_NANOS;
		Set<MemcachedNode> failed = new HashSet<>(2);
		while (true) {
			MemcachedNode node = this.placement.nodeFor(base);
			if (node == null || failed.contains(node)) {
				return new Taken(SessionLock.Outcome.UNAVAILABLE, null, 0);
			}
			WriteOutcome added = this.store.add(node, key, this.expirationSeconds, token);
			if (!added.isOk() && added.result() != WriteResult.CONFLICT) {
				if (this.placement.isAvailable(node)) {
					return new Taken(SessionLock.Outcome.UNAVAILABLE, null, 0);
				}
				failed.add(node);
				continue;
			}
			WriteOutcome taken = added.isOk() ? added
					: (!this.store.canDeleteIfUnchanged() ? takeOverReleased(node, key, token) : null);
			if (taken != null) {
				if (!heldElsewhere(node, key)) {
					return new Taken(SessionLock.Outcome.ACQUIRED, node, taken.cas());
				}
				// a request still holds the lock where it went while this node was down
				removeOwnItem(new SessionLock(base, node, key, token, SessionLock.Outcome.ACQUIRED, null, 0,
						taken.cas()));
			}
			long left = deadline - System.nanoTime();
			if (left <= 0 || Thread.currentThread().isInterrupted()) {
				return new Taken(SessionLock.Outcome.TIMED_OUT, null, 0);
			}
			long pause = Math.min(left, backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1));
			LockSupport.parkNanos(pause);
			backoff = Math.min(MAX_BACKOFF_NANOS, backoff * 2);
		}
	}

	/**
	 * Whether another node that is up holds the session's lock item: taken while the node
	 * we locked on was down (or taken for down by that request's server), by a request
	 * that may still run. The item we just took must then wait for it, or two requests of
	 * the session would run at once once the home node is back.
	 */
	private boolean heldElsewhere(MemcachedNode ours, String key) {
		for (MemcachedNode other : this.placement.othersUp(ours)) {
			StoredValue value = this.store.get(other, key);
			if (value != null && !Arrays.equals(value.bytes(), RELEASED)) {
				return true;
			}
		}
		return false;
	}

	/** Text protocol: a lock released by overwriting it with the marker is free to take. */
	private @Nullable WriteOutcome takeOverReleased(MemcachedNode node, String key, byte[] token) {
		StoredValue value = this.store.get(node, key);
		if (value == null || !Arrays.equals(value.bytes(), RELEASED)) {
			return null;
		}
		WriteOutcome taken = this.store.cas(node, key, value.cas(), this.expirationSeconds, token);
		return taken.isOk() ? taken : null;
	}

	/**
	 * Extends the held item while the request runs, every third of the time the item is
	 * sure to live: memcached's clock steps once a second, so an item stored for n
	 * seconds may be gone after little more than n - 1 (a 2-second lock extended every
	 * 667 ms was lost on a loaded machine, LockingAllIT).
	 */
	void scheduleExtension(SessionLock lock) {
		long sureMillis = TimeUnit.SECONDS.toMillis(this.expirationSeconds - 1);
		long period = Math.max(sureMillis / 3, 300);
		lock.extension = this.extender.scheduleWithFixedDelay(() -> extend(lock), period, period,
				TimeUnit.MILLISECONDS);
	}

	/** Renews our lock item's TTL, only if it is still ours. Runs on the extender thread. */
	private void extend(SessionLock lock) {
		MemcachedNode node = lock.node();
		if (node == null) {
			return;
		}
		synchronized (lock) {
			if (lock.released || lock.lost) {
				return;
			}
			long cas = lock.cas;
			if (cas == 0) {
				StoredValue value = this.store.get(node, lock.key());
				if (value == null) {
					if (this.placement.isAvailable(node)) {
						lost(lock, "expired");
					}
					return;
				}
				if (!Arrays.equals(value.bytes(), lock.token())) {
					lost(lock, "taken by another request");
					return;
				}
				cas = value.cas();
			}
			WriteOutcome extended = this.store.cas(node, lock.key(), cas, this.expirationSeconds, lock.token());
			switch (extended.result()) {
				case OK -> lock.cas = extended.cas();
				case CONFLICT -> lost(lock, "taken by another request");
				case NOT_FOUND -> lost(lock, "expired");
				default -> {
					// the node failed; the next period tries again
				}
			}
		}
	}

	void lost(SessionLock lock, String how) {
		lock.lost = true;
		this.metrics.lost();
		logger.warn("The lock of session " + SessionIdTag.of(lock.sessionId()) + " was " + how + " while its request still ran"
				+ " (was the lock item evicted, or the node restarted?); other requests of the session may run"
				+ " concurrently with it");
		if (lock.extension != null) {
			lock.extension.cancel(false);
		}
	}

	/** Removes our item if it is still ours: a request whose lock expired never removes the next holder's. */
	void removeOwnItem(SessionLock lock) {
		MemcachedNode node = lock.node();
		if (node == null) {
			return;
		}
		long cas = lock.cas;
		if (cas == 0) {
			StoredValue value = this.store.get(node, lock.key());
			if (value == null || !Arrays.equals(value.bytes(), lock.token())) {
				if (value != null) {
					lost(lock, "taken by another request");
				}
				return;
			}
			cas = value.cas();
		}
		WriteResult result = this.store.canDeleteIfUnchanged()
				? this.store.deleteIfUnchanged(node, lock.key(), cas)
				: this.store.cas(node, lock.key(), cas, 1, RELEASED).result();
		if (result == WriteResult.CONFLICT) {
			lost(lock, "taken by another request");
		}
		else if (result == WriteResult.NOT_FOUND && logger.isDebugEnabled()) {
			logger.debug("The lock of session " + SessionIdTag.of(lock.sessionId()) + " had expired at release");
		}
	}

	/** Stops extending locks; held ones expire by themselves. */
	@Override
	public void close() {
		this.extender.shutdownNow();
	}

}
