package io.github.msm.session.lock;

import java.util.concurrent.ScheduledFuture;

import io.github.msm.session.node.MemcachedNode;
import org.jspecify.annotations.Nullable;

/**
 * One request's claim on its session: the place in this JVM's queue and, when
 * {@link Outcome#ACQUIRED} in non-sticky mode, the lock item in memcached with the owner
 * token that only this request knows. Hand it back to
 * {@link SessionLocks#release(SessionLock)} exactly once, whatever the outcome.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class SessionLock {

	/** What the attempt to lock gave. */
	public enum Outcome {

		/** The request holds the lock. */
		ACQUIRED,

		/** Another request held the lock for longer than the lock timeout. */
		TIMED_OUT,

		/**
		 * No node that could hold the lock item answers (every node is down, or the
		 * lock's node refused the call): the request runs without a memcached lock.
		 * Requests of this JVM still queue.
		 */
		UNAVAILABLE

	}

	private final String sessionId;

	private final @Nullable MemcachedNode node;

	private final String key;

	private final byte[] token;

	private final Outcome outcome;

	private final LocalSessionLocks.@Nullable Permit permit;

	private final long waitedNanos;

	/** CAS token of our lock item as last written; 0 when unknown (text protocol). */
	long cas;

	@Nullable ScheduledFuture<?> extension;

	boolean lost;

	boolean released;

	SessionLock(String sessionId, @Nullable MemcachedNode node, String key, byte[] token, Outcome outcome,
			LocalSessionLocks.@Nullable Permit permit, long waitedNanos, long cas) {
		this.sessionId = sessionId;
		this.node = node;
		this.key = key;
		this.token = token;
		this.outcome = outcome;
		this.permit = permit;
		this.waitedNanos = waitedNanos;
		this.cas = cas;
	}

	public String sessionId() {
		return this.sessionId;
	}

	public Outcome outcome() {
		return this.outcome;
	}

	/** Whether this request holds the session's lock (in memcached, or in sticky mode this JVM's). */
	public boolean isHeld() {
		return this.outcome == Outcome.ACQUIRED;
	}

	/** How long the request waited, in this JVM's queue and for memcached. */
	public long waitedNanos() {
		return this.waitedNanos;
	}

	/** The node of our lock item; {@code null} when no item is held (sticky mode, or not acquired). */
	@Nullable MemcachedNode node() {
		return this.node;
	}

	String key() {
		return this.key;
	}

	byte[] token() {
		return this.token;
	}

	LocalSessionLocks.@Nullable Permit permit() {
		return this.permit;
	}

}
