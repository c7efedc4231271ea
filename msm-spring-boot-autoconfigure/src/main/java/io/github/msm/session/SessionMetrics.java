package io.github.msm.session;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The store's counters, resolved once so the request path does no registry lookups.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class SessionMetrics {

	private final Counter oversize;

	private final Counter unreadableSession;

	private final Counter unreadableAttribute;

	private final Counter unwritableAttribute;

	private final Counter writeFailures;

	private final Counter conflicts;

	private final Counter writes;

	private final Counter accessWrites;

	private final Counter backupRefused;

	private final Counter backupDropped;

	private final Counter relocated;

	private final Counter discardedDeleted;

	private final Counter discardedRenamed;

	private final Counter discardedOutage;

	private final Counter restored;

	private final Counter replicated;

	private final Counter indexWriteFailures;

	public SessionMetrics(MeterRegistry registry) {
		this.oversize = Counter.builder("msm.session.oversize")
			.description("Sessions not stored because they exceed msm.max-item-size")
			.register(registry);
		this.unreadableSession = Counter.builder("msm.session.unreadable")
			.description("Stored sessions dropped because their bytes are corrupt or of another format")
			.register(registry);
		this.unreadableAttribute = Counter.builder("msm.attribute.unreadable")
			.description("Session attributes dropped because they cannot be deserialized")
			.register(registry);
		this.unwritableAttribute = Counter.builder("msm.attribute.unwritable")
			.description("Session attributes not stored because they cannot be serialized")
			.register(registry);
		this.writeFailures = Counter.builder("msm.session.write.failures")
			.description("Session changes that could not be stored (node failure or deadline), each logged at WARN")
			.register(registry);
		this.conflicts = Counter.builder("msm.session.write.conflicts")
			.description("Compare-and-set conflicts with a concurrent write; each is merged and retried")
			.register(registry);
		this.writes = Counter.builder("msm.session.writes")
			.description("Session data writes stored on the primary node")
			.register(registry);
		this.accessWrites = Counter.builder("msm.session.access.writes")
			.description("Access times written (queued) by requests that only read their session")
			.register(registry);
		this.backupRefused = Counter.builder("msm.backup.write.refused")
			.description("Backup writes not applied because the backup already holds a newer version or a tombstone")
			.register(registry);
		this.backupDropped = Counter.builder("msm.backup.write.dropped")
			.description("Backup writes that failed or found the backup queue full")
			.register(registry);
		this.discardedDeleted = Counter.builder("msm.session.write.discarded")
			.tag("reason", "missing")
			.description("Changes not written because another request deleted or renamed the session meanwhile")
			.register(registry);
		this.discardedRenamed = Counter.builder("msm.session.write.discarded")
			.tag("reason", "tombstone")
			.description("Changes not written because another request deleted or renamed the session meanwhile")
			.register(registry);
		this.discardedOutage = Counter.builder("msm.session.write.discarded")
			.tag("reason", "outage")
			.description("Changes not written because another request deleted or renamed the session meanwhile")
			.register(registry);
		this.relocated = Counter.builder("msm.session.failover")
			.tag("kind", "relocation")
			.description("Sessions moved to another node (new id) because their node was down")
			.register(registry);
		this.restored = Counter.builder("msm.session.failover")
			.tag("kind", "restore")
			.description("Sessions written back from their backup to a node that came back empty")
			.register(registry);
		this.replicated = Counter.builder("msm.session.failover")
			.tag("kind", "re-replication")
			.description("Backup copies written again at a session's access after a node went down or came back")
			.register(registry);
		this.indexWriteFailures = Counter.builder("msm.index.write.failures")
			.description("Principal index updates that could not be stored, each logged (WARN at most once a minute)")
			.register(registry);
	}

	/** Metrics that go nowhere, for use without Micrometer set up. */
	public static SessionMetrics none() {
		return new SessionMetrics(new SimpleMeterRegistry());
	}

	void oversize() {
		this.oversize.increment();
	}

	void unreadableSession() {
		this.unreadableSession.increment();
	}

	void unreadableAttribute() {
		this.unreadableAttribute.increment();
	}

	void unwritableAttribute() {
		this.unwritableAttribute.increment();
	}

	void writeFailure() {
		this.writeFailures.increment();
	}

	void conflict() {
		this.conflicts.increment();
	}

	void written() {
		this.writes.increment();
	}

	void accessWritten() {
		this.accessWrites.increment();
	}

	void backupRefused() {
		this.backupRefused.increment();
	}

	void discarded(boolean tombstone) {
		(tombstone ? this.discardedRenamed : this.discardedDeleted).increment();
	}

	void superseded() {
		this.discardedOutage.increment();
	}

	void relocated() {
		this.relocated.increment();
	}

	void restored() {
		this.restored.increment();
	}

	void replicated() {
		this.replicated.increment();
	}

	void backupDropped() {
		this.backupDropped.increment();
	}

	void indexWriteFailed() {
		this.indexWriteFailures.increment();
	}

}
