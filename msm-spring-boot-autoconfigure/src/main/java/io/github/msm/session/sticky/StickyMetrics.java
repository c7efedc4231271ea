package io.github.msm.session.sticky;

import io.github.msm.session.SessionMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Meters of sticky mode, resolved once so the request path does no registry lookups.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class StickyMetrics {

	private final Counter hits;

	private final Counter misses;

	private final Counter takeovers;

	private final Counter dropped;

	private final Counter unwritten;

	private final Counter lookupFound;

	StickyMetrics(MeterRegistry registry, StickySessionRepository repository) {
		this.hits = Counter.builder("msm.sticky.lookups")
			.tag("result", "hit")
			.description("Session lookups of this server's own sessions: hit (answered from its memory), miss (read from memcached)")
			.register(registry);
		this.misses = Counter.builder("msm.sticky.lookups")
			.tag("result", "miss")
			.description("Session lookups of this server's own sessions: hit (answered from its memory), miss (read from memcached)")
			.register(registry);
		this.takeovers = Counter.builder("msm.session.failover")
			.tag("kind", "takeover")
			.description(SessionMetrics.FAILOVER)
			.register(registry);
		this.dropped = Counter.builder("msm.sticky.writes.dropped")
			.description("Queued writes refused because the queue was full; the change stays in memory and is"
					+ " written with the session's next write or at shutdown")
			.register(registry);
		this.unwritten = Counter.builder("msm.sticky.writes.unwritten")
			.description("Changes memcached did not take (no node up, a node hung, deadline passed); kept in"
					+ " this server's memory as pending and written once a node answers")
			.register(registry);
		this.lookupFound = SessionMetrics.lookup("found", registry);
		Gauge.builder("msm.sticky.writes.pending", repository, StickySessionRepository::unwrittenCount)
			.description("Sessions whose changes memcached has not taken yet, retried in the background")
			.register(registry);
		Gauge.builder("msm.sticky.sessions", repository, StickySessionRepository::localSessionCount)
			.description("Sessions held in this server's memory")
			.register(registry);
		Gauge.builder("msm.sticky.writes.queued", repository, StickySessionRepository::queuedWriteCount)
			.description("Sessions whose changes wait in the write queue (msm.sticky.async-writes)")
			.register(registry);
	}

	static StickyMetrics none(StickySessionRepository repository) {
		return new StickyMetrics(new SimpleMeterRegistry(), repository);
	}

	void hit() {
		this.hits.increment();
		this.lookupFound.increment();
	}

	void miss() {
		this.misses.increment();
	}

	void takeover() {
		this.takeovers.increment();
	}

	void unwritten() {
		this.unwritten.increment();
	}

	void dropped() {
		this.dropped.increment();
	}

}
