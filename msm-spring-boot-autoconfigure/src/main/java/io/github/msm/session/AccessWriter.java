package io.github.msm.session;

import java.time.Duration;

import io.github.msm.session.SessionChanges.AccessChange;
import io.github.msm.session.SessionCodec.Access;
import io.github.msm.session.SessionCodec.Validity;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeSelector;
import io.github.msm.session.storage.MemcachedStore;
import org.jspecify.annotations.Nullable;

/**
 * Writes the access of a request that only read its session, when the stored expiry no
 * longer covers it (see {@link SessionLifetime}); nothing is awaited.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class AccessWriter {

	private final MemcachedStore store;

	private final NodeSelector nodes;

	private final SessionLifetime lifetime;

	private final BackupWriter backup;

	private final SessionKeys keys;

	private final SessionMetrics metrics;

	AccessWriter(MemcachedStore store, NodeSelector nodes, SessionLifetime lifetime, BackupWriter backup,
			SessionKeys keys, SessionMetrics metrics) {
		this.store = store;
		this.nodes = nodes;
		this.lifetime = lifetime;
		this.backup = backup;
		this.keys = keys;
		this.metrics = metrics;
	}

	/**
	 * Records a read-only access: a queued validity write when the stored expiry no
	 * longer covers the access, and about once per interval a renewal of the data item's
	 * expiration, as a compare-and-set of the bytes read, so that it can never shorten the
	 * life of a version another server wrote meanwhile. Nothing is awaited.
	 */
	@Nullable StoredSession write(SessionChanges changes, MemcachedNode node) {
		StoredSession base = changes.base();
		AccessChange change = changes.access();
		if (base == null || change == null || isWritten(base.access(), change)) {
			return base;
		}
		Duration interval = base.data().maxInactiveInterval();
		Access next = this.lifetime.written(change.lastAccessedTime(), this.lifetime.slack(change.current(), interval),
				interval);
		SessionKeys keys = this.keys;
		String id = changes.id();
		MemcachedNode backupNode = this.nodes.backupOf(node);
		if (this.lifetime.needsTouch(base.access(), interval, next) && base.cas() != 0) {
			byte[] bytes = SessionCodec.encodeData(base.data());
			int expiration = this.lifetime.expiration(this.lifetime.dataLifetime(interval, next));
			this.store.casAsync(node, keys.data(id), base.cas(), expiration, bytes);
			if (backupNode != null) {
				this.backup.writeData(id, backupNode, SessionKeys.backup(keys.data(id)), base.version(), expiration,
						bytes);
			}
		}
		else {
			next = new Access(next.lastAccessedTime(), next.slack(), base.access().itemsExpireAt());
		}
		byte[] validity = SessionCodec.encodeValidity(new Validity(base.version(), next));
		int expiration = this.lifetime.expiration(this.lifetime.validityLifetime(interval, next));
		if (!change.current() || (base.validityCas() == 0 && !base.access().equals(base.data().access()))) {
			// an access time the application set explicitly is honoured as given, also back
			// in time (Spring Session's contract); so is a later access of a session whose
			// validity item this server wrote without learning its CAS token
			this.store.setAsync(node, keys.validity(id), expiration, validity);
		}
		else if (base.validityCas() != 0) {
			// a later access written meanwhile wins: this one is dropped
			this.store.casAsync(node, keys.validity(id), base.validityCas(), expiration, validity);
		}
		else {
			this.store.addAsync(node, keys.validity(id), expiration, validity);
		}
		if (backupNode != null) {
			this.backup.set(id, backupNode, SessionKeys.backup(keys.validity(id)), expiration, validity);
		}
		this.metrics.accessWritten();
		return new StoredSession(base.data(), base.cas(), next, 0);
	}

	/** Whether the stored access already gives the session the life this access asks for. */
	static boolean isWritten(Access stored, AccessChange change) {
		if (change.current()) {
			return SessionLifetime.covers(stored, change.lastAccessedTime());
		}
		return change.lastAccessedTime().equals(stored.lastAccessedTime()) && stored.slack().isZero();
	}

}
