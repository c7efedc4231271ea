package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

import io.github.msm.session.SessionReader.Read;
import io.github.msm.session.SessionReader.Status;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.storage.WriteOutcome;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * Tells whether a session this server served has expired in memcached, and claims its
 * expiry so that one server of the fleet publishes the event: what
 * {@code io.github.msm.session.event} needs from the store, in one place.
 *
 * <p>
 * Memcached is asked, not this server's memory: another server may have accessed the
 * session later (it then expires later), deleted it, or moved it to another node when
 * its own went down (a move is no expiry: the session lives on under its new id, which
 * whoever serves it watches).
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class SessionExpiryProbe {

	private static final byte[] CLAIM = { 1 };

	private final MemcachedSessionRepository repository;

	/**
	 * @param repository the repository whose sessions are probed
	 */
	public SessionExpiryProbe(MemcachedSessionRepository repository) {
		Assert.notNull(repository, "repository must not be null");
		this.repository = repository;
	}

	/** What memcached says of a session. */
	public enum State {

		/** It lives, until {@link Verdict#expiresAt()} ({@code null}: never). */
		ALIVE,

		/** It expired (or is gone from every node that held it). */
		EXPIRED,

		/** It was deleted, renamed or moved to another id: no expiry of this id. */
		ENDED,

		/** No node answered: ask again later. */
		UNKNOWN

	}

	/**
	 * @param state what memcached says
	 * @param expiresAt when an {@link State#ALIVE} session expires; {@code null} for never
	 * or another state
	 * @param session the expired session as stored, when it could still be read
	 */
	public record Verdict(State state, @Nullable Instant expiresAt, @Nullable MemcachedSession session) {

		static final Verdict ENDED = new Verdict(State.ENDED, null, null);

		static final Verdict UNKNOWN = new Verdict(State.UNKNOWN, null, null);

		static final Verdict GONE = new Verdict(State.EXPIRED, null, null);

	}

	/** Who publishes an expiry. */
	public enum Claim {

		/** This server: it publishes the event. */
		WON,

		/** Another server claimed it first. */
		LOST,

		/** No node took the claim: try again later. */
		FAILED

	}

	/** Now, by the repository's clock. */
	public Instant now() {
		return this.repository.parts().lifetime.now();
	}

	/**
	 * When a session expires at the earliest, from what this server knows of it.
	 * @return {@code null} for a session that never expires
	 */
	public static @Nullable Instant expiresAt(MemcachedSession session) {
		Duration interval = session.getMaxInactiveInterval();
		return SessionLifetime.neverExpires(interval) ? null : session.getLastAccessedTime().plus(interval);
	}

	/**
	 * Reads a session from its node, and where it is not there, from its backup and the
	 * ids it would have been moved to.
	 * @param id the id this server served the session under
	 * @return the verdict
	 */
	public Verdict probe(String id) {
		RepositoryParts parts = this.repository.parts();
		MemcachedNode node = this.repository.idFormat().nodeOf(id);
		if (node == null) {
			return Verdict.ENDED;
		}
		Read read = parts.nodes.isAvailable(node) ? parts.reader.read(id, node) : Read.FAILED;
		switch (read.status()) {
			case FOUND:
				Verdict verdict = judge(parts, id, Objects.requireNonNull(read.session()));
				return (verdict.state() == State.EXPIRED && movedAway(parts, id, node)) ? Verdict.ENDED : verdict;
			case ABSENT:
			case FAILED:
				return elsewhere(parts, id, node, read.status() == Status.FAILED);
			default:
				// deleted, renamed, moved (tombstone), or bytes no server of this kind reads
				return Verdict.ENDED;
		}
	}

	/** The primary has nothing (restarted empty, evicted) or is down: the other nodes tell. */
	private Verdict elsewhere(RepositoryParts parts, String id, MemcachedNode node, boolean primaryFailed) {
		if (movedAway(parts, id, node)) {
			return Verdict.ENDED;
		}
		MemcachedNode backupNode = parts.nodes.backupOf(node);
		Read backup = (backupNode != null) ? parts.reader.readBackup(id, backupNode) : Read.FAILED;
		return switch (backup.status()) {
			case FOUND -> judge(parts, id, Objects.requireNonNull(backup.session()));
			case ABSENT -> Verdict.GONE;
			case FAILED -> primaryFailed ? Verdict.UNKNOWN : Verdict.GONE;
			default -> Verdict.ENDED;
		};
	}

	/**
	 * Whether the session lives on under its id on another node (a failover moved it);
	 * a tombstone there that points back to this id is an earlier move undone.
	 */
	private boolean movedAway(RepositoryParts parts, String id, MemcachedNode node) {
		if (!this.repository.ring().isNodeIdInSessionId()) {
			return false;
		}
		for (MemcachedNode other : parts.nodes.othersUp(node)) {
			String movedId = this.repository.idFormat().onNode(id, other);
			if (movedId.equals(id)) {
				continue;
			}
			Read there = parts.reader.read(movedId, other);
			if (there.status() == Status.FOUND
					|| (there.status() == Status.DELETED && !id.equals(there.movedTo()))) {
				return true;
			}
		}
		return false;
	}

	private Verdict judge(RepositoryParts parts, String id, StoredSession stored) {
		Duration interval = stored.data().maxInactiveInterval();
		if (!parts.lifetime.isExpired(interval, stored.access())) {
			return new Verdict(State.ALIVE, SessionLifetime.expiresAt(interval, stored.access()), null);
		}
		return new Verdict(State.EXPIRED, null,
				new MemcachedSession(id, stored, this.repository.idFormat(), parts.codec, parts.lifetime));
	}

	/**
	 * Claims the expiry event of a session with an {@code add} of {@code expired:<id>} on
	 * its node, or on the next node up when its node does not answer: the one server whose
	 * {@code add} succeeds publishes.
	 * @param id the session id
	 * @param ttl how long the claim is kept: longer than any other server may take to see
	 * the same expiry
	 * @return the outcome
	 */
	public Claim claim(String id, Duration ttl) {
		RepositoryParts parts = this.repository.parts();
		MemcachedNode node = this.repository.idFormat().nodeOf(id);
		if (node == null) {
			return Claim.LOST;
		}
		String key = this.repository.keys().expiredClaim(id);
		int expiration = MemcachedExpiration.of(ttl, parts.lifetime.now());
		MemcachedNode target = parts.nodes.isAvailable(node) ? node : parts.nodes.relocationTarget(node);
		for (int attempt = 0; attempt < 2 && target != null; attempt++) {
			WriteOutcome outcome = this.repository.store().add(target, key, expiration, CLAIM);
			switch (outcome.result()) {
				case OK:
					return Claim.WON;
				case CONFLICT:
					return Claim.LOST;
				default:
					target = (target == node) ? parts.nodes.relocationTarget(node) : null;
			}
		}
		return Claim.FAILED;
	}

}
