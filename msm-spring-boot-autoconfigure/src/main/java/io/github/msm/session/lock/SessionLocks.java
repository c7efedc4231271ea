package io.github.msm.session.lock;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;

import io.github.msm.session.SessionIdFormat;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.storage.MemcachedStore;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * Session locks, one per session, not per id: every id of a session starts with the same
 * 32 random hex characters (its <em>base</em>), whatever node ({@code -n1}, {@code -n2}
 * after a failover) or route ({@code .app1}) it names, and the lock is the base's. Two
 * requests that carry different ids of one session (an old and a new cookie) therefore
 * wait for each other.
 *
 * <p>
 * A request first queues inside this JVM, first come first served, behind the other
 * requests of its session (see {@link LocalSessionLocks}). In sticky mode that is the
 * whole lock: the server that holds the session is its only writer
 * ({@link #localOnly}). In non-sticky mode the request at the head then takes the
 * session's lock item in memcached, {@code lock:<prefix><base>} on the node
 * {@link LockPlacement} picks from the base (the first node up in ring order from the
 * base's home node), holding a random owner token:
 * <ul>
 * <li><strong>Acquire</strong>: {@code add} with the lock expiration as TTL; while the
 * key exists, try again with jittered exponential back-off until the lock timeout. A
 * lock node that fails the {@code add} is marked down and the next node up is
 * tried. After the {@code add}, a {@code get} on each other node up: a request that took
 * the lock there while this node was down may still run, so our item is removed again and
 * the request waits as for a held lock.</li>
 * <li><strong>Extend</strong>: every third of the expiration less one second (memcached's
 * clock steps once a second, so an item may live a second less than asked), a compare-and-set of our
 * own item with a fresh TTL, so a long request keeps its lock; a compare-and-set that
 * finds another value means the lock was lost, which is logged and counted.</li>
 * <li><strong>Release</strong>: only our own item is removed. Binary protocol: a
 * {@code delete} with the CAS token of our item. Text protocol, which has no such
 * delete: our item is overwritten by compare-and-set with a 1-second "released" marker,
 * which the next acquirer takes over by compare-and-set. Either way a request whose lock
 * expired can never remove the lock of the request that took it next (msm #192,
 * #283).</li>
 * </ul>
 * When no node that could hold the item answers, {@link SessionLock.Outcome#UNAVAILABLE}
 * comes at once: failing the request would turn a memcached outage into an outage of the
 * application.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class SessionLocks implements AutoCloseable {

	private static final HexFormat HEX = HexFormat.of();

	private static final byte[] NO_TOKEN = new byte[0];

	private final SecureRandom random = new SecureRandom();

	private final LocalSessionLocks local = new LocalSessionLocks();

	private final SessionIdFormat idFormat;

	private final @Nullable LockItems items;

	private final @Nullable LockPlacement placement;

	private final int expirationSeconds;

	private final long timeoutNanos;

	private final SessionLockMetrics metrics;

	/**
	 * Locks across servers, in memcached (non-sticky mode).
	 * @param store the memcached access
	 * @param ring the nodes, to check ids and place lock items
	 * @param keyPrefix the store's key prefix ({@code msm.key-prefix})
	 * @param expiration TTL of a lock item, whole seconds, at least 1 s: how long a lock
	 * whose request died blocks its session
	 * @param timeout how long a request waits for its lock, at least 0
	 * @param metrics where waits and lost locks are counted
	 */
	public SessionLocks(MemcachedStore store, NodeRing ring, String keyPrefix, Duration expiration, Duration timeout,
			SessionLockMetrics metrics) {
		this(ring, store, keyPrefix, expiration, timeout, metrics);
	}

	private SessionLocks(NodeRing ring, @Nullable MemcachedStore store, String keyPrefix, Duration expiration,
			Duration timeout, SessionLockMetrics metrics) {
		checkExpiration(expiration);
		checkTimeout(timeout);
		this.idFormat = new SessionIdFormat(ring);
		this.expirationSeconds = (int) expiration.toSeconds();
		this.timeoutNanos = timeout.toNanos();
		this.metrics = metrics;
		LockPlacement placement = (store != null) ? new LockPlacement(ring, store.availability()) : null;
		this.placement = placement;
		this.items = (store != null && placement != null)
				? new LockItems(store, placement, keyPrefix, this.expirationSeconds, metrics) : null;
	}

	/**
	 * Locks inside this JVM only, for sticky mode: the server that holds a session is its
	 * only writer, so its requests need only wait for each other; no memcached call.
	 * @param ring the nodes, to check ids
	 * @param expiration only for {@code Retry-After} of a request refused on timeout
	 * @param timeout how long a request waits for its lock, at least 0
	 * @param metrics where waits are counted
	 * @return the locks
	 */
	public static SessionLocks localOnly(NodeRing ring, Duration expiration, Duration timeout,
			SessionLockMetrics metrics) {
		return new SessionLocks(ring, null, "", expiration, timeout, metrics);
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

	/** Whether locks are taken in memcached (non-sticky mode) or only inside this JVM (sticky). */
	public boolean isDistributed() {
		return this.items != null;
	}

	/**
	 * The memcached key of a session's lock: the same for every id of the session.
	 * @param keyPrefix the store's key prefix
	 * @param sessionId a valid session id, or its base
	 * @return {@code lock:<prefix><base>}
	 */
	public static String key(String keyPrefix, String sessionId) {
		return "lock:" + keyPrefix + LockPlacement.base(sessionId);
	}

	/**
	 * The node that holds the session's lock item now, as this server sees the nodes.
	 * @param sessionId a valid session id
	 * @return the node; {@code null} in sticky mode or when no node is up
	 */
	public @Nullable MemcachedNode lockNode(String sessionId) {
		return (this.placement != null) ? this.placement.nodeFor(LockPlacement.base(sessionId)) : null;
	}

	/**
	 * Whether an id can be locked: it has this store's format, with a configured node or
	 * none (a session kept in memory while no node was up). Checked before anything is
	 * sent, so a hostile cookie never reaches memcached.
	 * @param sessionId an id from anywhere
	 */
	public boolean isLockable(String sessionId) {
		return this.idFormat.nodeOf(sessionId) != null || this.idFormat.isLocal(sessionId);
	}

	/**
	 * Waits for the session's lock, at most the lock timeout.
	 * @param sessionId an id from anywhere, including a hostile cookie
	 * @return the claim, to be released in any case; {@code null} when the id is not a
	 * valid id of this store (nothing to lock, nothing was sent)
	 */
	public @Nullable SessionLock acquire(String sessionId) {
		if (!isLockable(sessionId)) {
			return null;
		}
		long start = System.nanoTime();
		String base = LockPlacement.base(sessionId);
		String key = (this.items != null) ? this.items.key(base) : "";
		LocalSessionLocks.Permit permit = this.local.acquire(base, this.timeoutNanos);
		if (permit == null) {
			return claim(sessionId, null, key, NO_TOKEN, SessionLock.Outcome.TIMED_OUT, null, start, 0);
		}
		if (this.items == null) {
			return claim(sessionId, null, key, NO_TOKEN, SessionLock.Outcome.ACQUIRED, permit, start, 0);
		}
		byte[] token = newToken();
		LockItems.Taken taken = this.items.take(base, token, start + this.timeoutNanos);
		return claim(sessionId, taken.node(), key, token, taken.outcome(), permit, start, taken.cas());
	}

	private SessionLock claim(String sessionId, @Nullable MemcachedNode node, String key, byte[] token,
			SessionLock.Outcome outcome, LocalSessionLocks.@Nullable Permit permit, long start, long cas) {
		long waited = System.nanoTime() - start;
		this.metrics.waited(outcome, waited);
		SessionLock lock = new SessionLock(sessionId, node, key, token, outcome, permit, waited, cas);
		if (outcome == SessionLock.Outcome.ACQUIRED && node != null && this.items != null) {
			this.items.scheduleExtension(lock);
		}
		return lock;
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
			remove = lock.isHeld() && !lock.lost && lock.node() != null;
		}
		try {
			if (remove && this.items != null) {
				this.items.removeOwnItem(lock);
			}
		}
		finally {
			LocalSessionLocks.Permit permit = lock.permit();
			if (permit != null) {
				permit.release();
			}
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
		if (this.items != null) {
			this.items.close();
		}
	}

}
