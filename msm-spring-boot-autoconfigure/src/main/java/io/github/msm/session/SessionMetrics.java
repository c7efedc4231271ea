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
			.description("Session writes that memcached did not confirm")
			.register(registry);
		this.conflicts = Counter.builder("msm.session.write.conflicts")
			.description("Session writes that met a concurrent write and were merged")
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

}
