package io.github.msm.session.lock;

import java.util.concurrent.ScheduledFuture;

import io.github.msm.session.node.MemcachedNode;
import org.jspecify.annotations.Nullable;

/**
 * One request's claim on its session: the place in this JVM's queue and, when
 * {@link Outcome#ACQUIRED}, the lock item in memcached with the owner token that only
 * this request knows. Hand it back to {@link SessionLocks#release(SessionLock)} exactly
 * once, whatever the outcome.
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
		 * The session's node is down or failing: no lock can be taken there, and the
		 * session moves to another node at this request. Requests of this JVM still
		 * queue.
		 */
		UNAVAILABLE

	}

	private final String sessionId;

	private final MemcachedNode node;

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

	SessionLock(String sessionId, MemcachedNode node, String key, byte[] token, Outcome outcome,
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

	/** Whether this request holds the session's lock in memcached. */
	public boolean isHeld() {
		return this.outcome == Outcome.ACQUIRED;
	}

	/** How long the request waited, in this JVM's queue and for memcached. */
	public long waitedNanos() {
		return this.waitedNanos;
	}

	MemcachedNode node() {
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
