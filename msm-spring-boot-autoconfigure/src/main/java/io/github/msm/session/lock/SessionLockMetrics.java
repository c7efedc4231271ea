package io.github.msm.session.lock;

import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Meters of session locking, resolved once so the request path does no registry
 * lookups: how long requests waited for their lock, and what became of each request
 * that carried a session id.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class SessionLockMetrics {

	private static final String REQUESTS = "msm.lock.requests";

	private final Timer waitAcquired;

	private final Timer waitTimedOut;

	private final Counter acquired;

	private final Counter timeoutFailed;

	private final Counter timeoutProceeded;

	private final Counter skippedReadOnly;

	private final Counter skippedUnavailable;

	private final Counter lost;

	public SessionLockMetrics(MeterRegistry registry) {
		this.waitAcquired = wait(registry, "acquired");
		this.waitTimedOut = wait(registry, "timeout");
		this.acquired = requests(registry, "acquired", "Requests that ran holding their session's lock");
		this.timeoutFailed = requests(registry, "timeout-failed",
				"Requests answered 503 because their session's lock stayed taken (msm.lock-timeout-action=fail)");
		this.timeoutProceeded = requests(registry, "timeout-proceeded",
				"Requests that ran without the lock they waited for (msm.lock-timeout-action=proceed)");
		this.skippedReadOnly = requests(registry, "skipped-readonly",
				"Requests that did not lock: their route is known to only read the session, or does not match msm.locking-uri-pattern");
		this.skippedUnavailable = requests(registry, "skipped-unavailable",
				"Requests that ran without a memcached lock because no node that could hold it answered");
		this.lost = Counter.builder("msm.lock.lost")
			.description("Locks found expired or taken by another request while their request still ran")
			.register(registry);
	}

	private static Timer wait(MeterRegistry registry, String outcome) {
		return Timer.builder("msm.lock.wait")
			.tag("outcome", outcome)
			.description("Time requests waited for their session's lock")
			.register(registry);
	}

	private static Counter requests(MeterRegistry registry, String outcome, String description) {
		return Counter.builder(REQUESTS).tag("outcome", outcome).description(description).register(registry);
	}

	/** Meters that go nowhere, for use without Micrometer set up. */
	public static SessionLockMetrics none() {
		return new SessionLockMetrics(new SimpleMeterRegistry());
	}

	void waited(SessionLock.Outcome outcome, long nanos) {
		(outcome == SessionLock.Outcome.TIMED_OUT ? this.waitTimedOut : this.waitAcquired).record(nanos,
				TimeUnit.NANOSECONDS);
	}

	void acquired() {
		this.acquired.increment();
	}

	void timeoutFailed() {
		this.timeoutFailed.increment();
	}

	void timeoutProceeded() {
		this.timeoutProceeded.increment();
	}

	void skippedReadOnly() {
		this.skippedReadOnly.increment();
	}

	void skippedUnavailable() {
		this.skippedUnavailable.increment();
	}

	void lost() {
		this.lost.increment();
	}

}
