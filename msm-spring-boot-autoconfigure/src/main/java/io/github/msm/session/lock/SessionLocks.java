package io.github.msm.session.lock;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import io.github.msm.session.SessionIdFormat;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.session.storage.StoredValue;
import io.github.msm.session.storage.WriteOutcome;
import io.github.msm.session.storage.WriteResult;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * Session locks in memcached: {@code lock:<prefix><id>} on the session's node, holding a
 * random owner token.
 *
 * <ul>
 * <li><strong>Acquire</strong>: {@code add} with the lock expiration as TTL; while the
 * key exists, try again with jittered exponential back-off until the lock timeout.
 * Requests of one session in this JVM queue first (see {@link LocalSessionLocks}), so
 * at most one of them polls memcached.</li>
 * <li><strong>Extend</strong>: every third of the expiration, a compare-and-set of our
 * own item with a fresh TTL, so a long request keeps its lock; a compare-and-set that
 * finds another value means the lock was lost, which is logged and counted.</li>
 * <li><strong>Release</strong>: only our own item is removed. Binary protocol: a
 * {@code delete} with the CAS token of our item. Text protocol, which has no such
 * delete: our item is overwritten by compare-and-set with a 1-second "released" marker,
 * which the next acquirer takes over by compare-and-set. Either way a request whose lock
 * expired can never remove the lock of the request that took it next (msm #192,
 * #283).</li>
 * </ul>
 * A node that is down gives {@link SessionLock.Outcome#UNAVAILABLE} at once: the
 * session moves to another node at this request, and failing the request would turn a
 * node failure into an outage.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class SessionLocks implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(SessionLocks.class);

	private static final byte[] RELEASED = "released".getBytes(StandardCharsets.US_ASCII);

	private static final long FIRST_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

	private static final long MAX_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

	private static final HexFormat HEX = HexFormat.of();

	private final SecureRandom random = new SecureRandom();

	private final LocalSessionLocks local = new LocalSessionLocks();

	private final MemcachedStore store;

	private final SessionIdFormat idFormat;

	private final String keyPrefix;

	private final int expirationSeconds;

	private final long timeoutNanos;

	private final SessionLockMetrics metrics;

	private final ScheduledThreadPoolExecutor extender;

	/**
	 * @param store the memcached access
	 * @param ring the nodes, to find a session's node from its id
	 * @param keyPrefix the store's key prefix ({@code msm.key-prefix})
	 * @param expiration TTL of a lock item, whole seconds, at least 1 s: how long a lock
	 * whose request died blocks its session
	 * @param timeout how long a request waits for its lock, at least 0
	 * @param metrics where waits and lost locks are counted
	 */
	public SessionLocks(MemcachedStore store, NodeRing ring, String keyPrefix, Duration expiration, Duration timeout,
			SessionLockMetrics metrics) {
		checkExpiration(expiration);
		checkTimeout(timeout);
		this.store = store;
		this.idFormat = new SessionIdFormat(ring);
		this.keyPrefix = keyPrefix;
		this.expirationSeconds = (int) expiration.toSeconds();
		this.timeoutNanos = timeout.toNanos();
		this.metrics = metrics;
		this.extender = new ScheduledThreadPoolExecutor(1, (task) -> {
			Thread thread = new Thread(task, "msm-lock-extender");
			thread.setDaemon(true);
			return thread;
		});
		this.extender.setRemoveOnCancelPolicy(true);
	}

	/**
	 * Checks a lock expiration: memcached counts TTLs in whole seconds.
	 * @param expiration the expiration
	 * @throws IllegalArgumentException unless whole seconds from 1 s to 1 day
	 */
	public static void checkExpiration(Duration expiration) {
		Assert.isTrue(expiration.toMillis() >= 1000 && expiration.toMillis() % 1000 == 0
				&& expiration.compareTo(Duration.ofDays(1)) <= 0,
				() -> "'" + expiration + "' must be whole seconds, from 1s to 1d");
	}

	/**
	 * Checks a lock timeout.
	 * @param timeout the timeout
	 * @throws IllegalArgumentException unless from 0 to 1 hour
	 */
	public static void checkTimeout(Duration timeout) {
		Assert.isTrue(!timeout.isNegative() && timeout.compareTo(Duration.ofHours(1)) <= 0,
				() -> "'" + timeout + "' must be from 0 to 1h");
	}

	/** How long a lock item lives without being extended. */
	public Duration expiration() {
		return Duration.ofSeconds(this.expirationSeconds);
	}

	/**
	 * The memcached key of a session's lock.
	 * @param keyPrefix the store's key prefix
	 * @param sessionId a valid session id
	 * @return {@code lock:<prefix><id>}
	 */
	public static String key(String keyPrefix, String sessionId) {
		return "lock:" + keyPrefix + sessionId;
	}

	/**
	 * Whether an id can be locked: it has this store's format and names a configured node.
	 * Checked before anything is sent, so a hostile cookie never reaches memcached.
	 * @param sessionId an id from anywhere
	 */
	public boolean isLockable(String sessionId) {
		return this.idFormat.nodeOf(sessionId) != null;
	}

	/**
	 * Waits for the session's lock, at most the lock timeout.
	 * @param sessionId an id from anywhere, including a hostile cookie
	 * @return the claim, to be released in any case; {@code null} when the id is not a
	 * valid id of a memcached node (nothing to lock, nothing was sent)
	 */
	public @Nullable SessionLock acquire(String sessionId) {
		MemcachedNode node = this.idFormat.nodeOf(sessionId);
		if (node == null) {
			return null;
		}
		long start = System.nanoTime();
		long deadline = start + this.timeoutNanos;
		String key = key(this.keyPrefix, sessionId);
		byte[] token = newToken();
		LocalSessionLocks.Permit permit = this.local.acquire(sessionId, this.timeoutNanos);
		if (permit == null) {
			return claim(sessionId, node, key, token, SessionLock.Outcome.TIMED_OUT, null, start, 0);
		}
		long backoff = FIRST_BACKOFF_NANOS;
		while (true) {
			WriteOutcome added = this.store.add(node, key, this.expirationSeconds, token);
			if (added.isOk()) {
				return claim(sessionId, node, key, token, SessionLock.Outcome.ACQUIRED, permit, start, added.cas());
			}
			if (added.result() != WriteResult.CONFLICT) {
				return claim(sessionId, node, key, token, SessionLock.Outcome.UNAVAILABLE, permit, start, 0);
			}
			if (!this.store.canDeleteIfUnchanged()) {
				WriteOutcome taken = takeOverReleased(node, key, token);
				if (taken != null) {
					return claim(sessionId, node, key, token, SessionLock.Outcome.ACQUIRED, permit, start, taken.cas());
				}
			}
			long left = deadline - System.nanoTime();
			if (left <= 0 || Thread.currentThread().isInterrupted()) {
				return claim(sessionId, node, key, token, SessionLock.Outcome.TIMED_OUT, permit, start, 0);
			}
			long pause = Math.min(left, backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1));
			LockSupport.parkNanos(pause);
			backoff = Math.min(MAX_BACKOFF_NANOS, backoff * 2);
		}
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

	private SessionLock claim(String sessionId, MemcachedNode node, String key, byte[] token,
			SessionLock.Outcome outcome, LocalSessionLocks.@Nullable Permit permit, long start, long cas) {
		long waited = System.nanoTime() - start;
		this.metrics.waited(outcome, waited);
		SessionLock lock = new SessionLock(sessionId, node, key, token, outcome, permit, waited, cas);
		if (outcome == SessionLock.Outcome.ACQUIRED) {
			long period = Math.max(TimeUnit.SECONDS.toMillis(this.expirationSeconds) / 3, 300);
			lock.extension = this.extender.scheduleWithFixedDelay(() -> extend(lock), period, period,
					TimeUnit.MILLISECONDS);
		}
		return lock;
	}

	/** Renews our lock item's TTL, only if it is still ours. Runs on the extender thread. */
	private void extend(SessionLock lock) {
		synchronized (lock) {
			if (lock.released || lock.lost) {
				return;
			}
			long cas = lock.cas;
			if (cas == 0) {
				StoredValue value = this.store.get(lock.node(), lock.key());
				if (value == null) {
					if (this.store.availability().isAvailable(lock.node())) {
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
			WriteOutcome extended = this.store.cas(lock.node(), lock.key(), cas, this.expirationSeconds, lock.token());
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

	private void lost(SessionLock lock, String how) {
		lock.lost = true;
		this.metrics.lost();
		logger.warn("The lock of session " + lock.sessionId() + " was " + how + " while its request still ran"
				+ " (was the lock item evicted, or the node restarted?); other requests of the session may run"
				+ " concurrently with it");
		if (lock.extension != null) {
			lock.extension.cancel(false);
		}
	}

	/**
	 * Releases the claim: removes our lock item if it is still ours and lets the next
	 * request of this JVM go. Idempotent.
	 * @param lock what {@link #acquire(String)} returned
	 */
	public void release(SessionLock lock) {
		if (lock.extension != null) {
			lock.extension.cancel(false);
		}
		boolean remove;
		synchronized (lock) {
			if (lock.released) {
				return;
			}
			lock.released = true;
			remove = lock.isHeld() && !lock.lost;
		}
		try {
			if (remove) {
				removeOwnItem(lock);
			}
		}
		finally {
			LocalSessionLocks.Permit permit = lock.permit();
			if (permit != null) {
				permit.release();
			}
		}
	}

	private void removeOwnItem(SessionLock lock) {
		long cas = lock.cas;
		if (cas == 0) {
			StoredValue value = this.store.get(lock.node(), lock.key());
			if (value == null || !Arrays.equals(value.bytes(), lock.token())) {
				if (value != null) {
					lost(lock, "taken by another request");
				}
				return;
			}
			cas = value.cas();
		}
		WriteResult result = this.store.canDeleteIfUnchanged()
				? this.store.deleteIfUnchanged(lock.node(), lock.key(), cas)
				: this.store.cas(lock.node(), lock.key(), cas, 1, RELEASED).result();
		if (result == WriteResult.CONFLICT) {
			lost(lock, "taken by another request");
		}
		else if (result == WriteResult.NOT_FOUND && logger.isDebugEnabled()) {
			logger.debug("The lock of session " + lock.sessionId() + " had expired at release");
		}
	}

	private byte[] newToken() {
		byte[] bytes = new byte[16];
		this.random.nextBytes(bytes);
		return HEX.formatHex(bytes).getBytes(StandardCharsets.US_ASCII);
	}

	/** Stops extending locks; held ones expire by themselves. */
	@Override
	public void close() {
		this.extender.shutdownNow();
	}

}
