package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;

import io.github.msm.session.SessionCodec.Access;
import io.github.msm.session.SessionCodec.Validity;
import io.github.msm.session.node.MemcachedNode;

/**
 * Writes, for sticky mode, the access of a request that read its held session and changed
 * nothing, when the access stored in memcached no longer covers it: the only memcached
 * traffic of a read-only sticky request, at most once per half interval per session.
 *
 * @author msm-spring-boot
 * @since 0.2.0
 */
final class ReadOnlyAccessWriter {

	private final MemcachedSessionRepository repository;

	ReadOnlyAccessWriter(MemcachedSessionRepository repository) {
		this.repository = repository;
	}

	/**
	 * Writes the access of a request that changed nothing, when the stored one no longer
	 * covers it: the 38-byte validity item (stamped with the version it extends) on the
	 * primary and the backup, and when the data item would otherwise expire too early a
	 * {@code touch} of it on both. With a slack of half the interval, that is at most once
	 * per half interval per session; nothing is awaited.
	 */
	StoredSession refresh(String id, StoredSession written, Instant accessTime, boolean exact) {
		Access stored = written.access();
		if (!exact && SessionLifetime.covers(stored, accessTime)) {
			return written;
		}
		MemcachedNode node = this.repository.idFormat().nodeOf(id);
		if (node == null) {
			return written;
		}
		RepositoryParts parts = this.repository.parts();
		SessionLifetime lifetime = parts.lifetime;
		SessionKeys keys = this.repository.keys();
		Duration interval = written.data().maxInactiveInterval();
		Duration slack = exact ? Duration.ZERO : SessionLifetime.neverExpires(interval) ? SessionLifetime.NEVER_EXPIRING_WINDOW
				: interval.dividedBy(2);
		Access next = lifetime.written(accessTime, slack, interval);
		MemcachedNode backupNode = parts.nodes.backupOf(node);
		if (lifetime.needsTouch(stored, interval, next)) {
			int expiration = lifetime.expiration(lifetime.dataLifetime(interval, next));
			this.repository.store().touchAsync(node, keys.data(id), expiration);
			if (backupNode != null) {
				this.repository.store().touchAsync(backupNode, SessionKeys.backup(keys.data(id)), expiration);
			}
		}
		else {
			next = new Access(next.lastAccessedTime(), next.slack(), stored.itemsExpireAt());
		}
		byte[] validity = SessionCodec.encodeValidity(new Validity(written.version(), next));
		int expiration = lifetime.expiration(lifetime.validityLifetime(interval, next));
		this.repository.store().setAsync(node, keys.validity(id), expiration, validity);
		if (backupNode != null) {
			parts.backup.set(id, backupNode, SessionKeys.backup(keys.validity(id)), expiration, validity);
		}
		this.repository.metrics().accessWritten();
		return new StoredSession(written.data(), written.cas(), next, 0);
	}

}
