package io.github.msm.session;

import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The store's meters, resolved once so the request path does no registry lookups.
 *
 * <p>
 * Names live under {@code msm.}; variants of one statistic are tags, not names: saves by
 * {@code outcome}, failovers by {@code kind}, requests by {@code session}. Timers and
 * distribution summaries give rates and percentiles instead of msm's lifetime averages.
 * A registry whose filter denies {@code msm} (Boot: {@code management.metrics.enable.msm=false})
 * hands out no-op meters, which cost close to nothing.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class SessionMetrics {

	/**
	 * The help text of {@code msm.session.failover}, one for all kinds (also sticky's
	 * takeover): Prometheus keeps a single one per meter name.
	 */
	public static final String FAILOVER = "Failover work by kind: relocation (a session moved to another node under"
			+ " a new id because its node was down), restore (a session written back to a node that came back empty),"
			+ " re-replication (a backup copy written again after a node went down or came back), takeover (sticky:"
			+ " a server took over the session of another route)";

	private static final String DISCARDED = "Changes not written by reason: missing (another request deleted the"
			+ " session meanwhile), tombstone (it was logged out or renamed meanwhile), outage (set while no node"
			+ " could be read; the stored values were kept)";

	private final Counter oversize;

	private final Counter unreadableSession;

	private final Counter unreadableAttribute;

	private final Counter unwritableAttribute;

	private final Counter writeFailures;

	private final Counter conflicts;

	private final Counter writes;

	private final Counter unchanged;

	private final Counter requestsWithSession;

	private final Counter requestsWithoutSession;

	private final DistributionSummary sessionSize;

	private final Timer serialization;

	private final Timer deserialization;

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

	private final Counter lookupFound;

	private final Counter lookupMissing;

	private final Counter lookupExpired;

	private final Counter lookupUnreadable;

	/**
	 * Why the current thread's lookup found nothing, when it was not simply absent: set by
	 * the read path, taken by {@link #lookedUp(boolean)} at the end of the lookup. An
	 * unreadable session met outside a lookup (a save's read) leaves it set until the
	 * thread's next lookup, which then counts as unreadable if it finds nothing: rare, and
	 * off by one count at most.
	 */
	private final ThreadLocal<Counter> lookupMiss = new ThreadLocal<>();

	public SessionMetrics(MeterRegistry registry) {
		this.oversize = save("too-large", registry);
		this.unreadableSession = Counter.builder("msm.session.unreadable")
			.description("Stored sessions dropped because their bytes are corrupt or of another format")
			.register(registry);
		this.unreadableAttribute = Counter.builder("msm.attribute.unreadable")
			.description("Session attributes dropped because they cannot be deserialized")
			.register(registry);
		this.unwritableAttribute = Counter.builder("msm.attribute.unwritable")
			.description("Session attributes not stored because they cannot be serialized")
			.register(registry);
		this.writeFailures = save("failed", registry);
		this.conflicts = save("conflict-retried", registry);
		this.writes = save("written", registry);
		this.unchanged = save("unchanged", registry);
		this.requestsWithSession = Counter.builder("msm.requests")
			.tag("session", "true")
			.description("Requests by whether they had a session (read, created or saved one)")
			.register(registry);
		this.requestsWithoutSession = Counter.builder("msm.requests")
			.tag("session", "false")
			.description("Requests by whether they had a session (read, created or saved one)")
			.register(registry);
		this.sessionSize = DistributionSummary.builder("msm.session.size")
			.baseUnit("bytes")
			.description("Size of the session data item at each write")
			.register(registry);
		this.serialization = Timer.builder("msm.serialization")
			.tag("direction", "serialize")
			.description("Time to serialize or deserialize one session attribute value")
			.register(registry);
		this.deserialization = Timer.builder("msm.serialization")
			.tag("direction", "deserialize")
			.description("Time to serialize or deserialize one session attribute value")
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
			.description(DISCARDED)
			.register(registry);
		this.discardedRenamed = Counter.builder("msm.session.write.discarded")
			.tag("reason", "tombstone")
			.description(DISCARDED)
			.register(registry);
		this.discardedOutage = Counter.builder("msm.session.write.discarded")
			.tag("reason", "outage")
			.description(DISCARDED)
			.register(registry);
		this.relocated = failover("relocation", registry);
		this.restored = failover("restore", registry);
		this.replicated = failover("re-replication", registry);
		this.indexWriteFailures = Counter.builder("msm.index.write.failures")
			.description("Principal index updates that could not be stored, each logged (WARN at most once a minute)")
			.register(registry);
		this.lookupFound = lookup("found", registry);
		this.lookupMissing = lookup("missing", registry);
		this.lookupExpired = lookup("expired", registry);
		this.lookupUnreadable = lookup("unreadable", registry);
	}

	private static Counter failover(String kind, MeterRegistry registry) {
		return Counter.builder("msm.session.failover").tag("kind", kind).description(FAILOVER).register(registry);
	}

	/**
	 * Lookups of a session id the application presented (also counted by sticky mode for
	 * the sessions it serves from its local copies). {@code missing} and
	 * {@code expired} on ids this fleet issued are users who lose their session: the
	 * number to watch during an outage.
	 * @param result found, missing, expired or unreadable
	 * @param registry where to register it
	 * @return the counter
	 */
	public static Counter lookup(String result, MeterRegistry registry) {
		return Counter.builder("msm.session.lookup")
			.tag("result", result)
			.description("Session lookups by result: found, missing (no such session, or logged out), expired"
					+ " (found but past its max-inactive interval), unreadable (corrupt or of another format)")
			.register(registry);
	}

	private static Counter save(String outcome, MeterRegistry registry) {
		return Counter.builder("msm.session.saves")
			.tag("outcome", outcome)
			.description("Session saves by outcome: written, unchanged (no data changed), failed (logged at WARN),"
					+ " too-large (over msm.max-item-size), conflict-retried (merged with a concurrent write and retried)")
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
		this.lookupMiss.set(this.lookupUnreadable);
	}

	/** The session the current lookup read was past its max-inactive interval. */
	void expiredOnLookup() {
		this.lookupMiss.set(this.lookupExpired);
	}

	/**
	 * Counts a lookup that ended.
	 * @param found whether it returned a session
	 */
	void lookedUp(boolean found) {
		Counter miss = this.lookupMiss.get();
		this.lookupMiss.remove();
		(found ? this.lookupFound : (miss != null) ? miss : this.lookupMissing).increment();
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

	void unchanged() {
		this.unchanged.increment();
	}

	/**
	 * Counts a finished request.
	 * @param withSession whether it read, created or saved a session
	 */
	public void request(boolean withSession) {
		(withSession ? this.requestsWithSession : this.requestsWithoutSession).increment();
	}

	void sessionSize(int bytes) {
		this.sessionSize.record(bytes);
	}

	void serialized(long startNanos) {
		this.serialization.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
	}

	void deserialized(long startNanos) {
		this.deserialization.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
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
