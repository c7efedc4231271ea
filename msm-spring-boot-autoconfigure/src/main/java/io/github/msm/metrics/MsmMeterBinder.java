package io.github.msm.metrics;

import java.util.concurrent.TimeUnit;

import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.SessionMetrics;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeAvailability;
import io.github.msm.session.storage.MemcachedStore;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * Binds the memcached session store's meters to a registry: the repository's counters,
 * timers and summaries ({@link SessionMetrics}), the time of each memcached operation by
 * operation and node, and whether each node is up.
 *
 * <p>
 * All names start with {@code msm.}, so that {@code management.metrics.enable.msm=false}
 * (or any {@code MeterFilter} denying that prefix) turns them all into no-op meters.
 * Meters of features that keep their own state (a local session cache, locks) are bound by
 * the binder of that feature.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public class MsmMeterBinder implements MeterBinder {

	private final MemcachedSessionRepository repository;

	private final MemcachedStore store;

	/**
	 * @param repository the repository whose outcomes to measure
	 * @param store its memcached access, whose operations and nodes to measure
	 */
	public MsmMeterBinder(MemcachedSessionRepository repository, MemcachedStore store) {
		this.repository = repository;
		this.store = store;
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		this.repository.setMetrics(new SessionMetrics(registry));
		this.store.setOperationTimer(new MemcachedOperationTimers(registry));
		Gauge.builder("msm.backup.queue", this.repository, MemcachedSessionRepository::backupQueueDepth)
			.description("Backup writes waiting in this server's queues (msm.backup-async)")
			.register(registry);
		TimeGauge.builder("msm.backup.lag", this.repository, TimeUnit.NANOSECONDS,
				(repository) -> repository.backupLag().toNanos())
			.description("Age of the oldest backup write not yet stored by this server (bounded by msm.backup-max-lag)")
			.register(registry);
		Gauge.builder("msm.sessions.local-only", this.repository, MemcachedSessionRepository::localOnlySessionCount)
			.description("Sessions living only in this server's memory (saved while no node was up, or stand-ins"
					+ " for sessions whose node is down): lost if this server stops")
			.register(registry);
		NodeAvailability availability = this.store.availability();
		for (MemcachedNode node : availability.nodes()) {
			Gauge.builder("msm.node.up", availability, (nodes) -> nodes.isAvailable(node) ? 1 : 0)
				.tag("node", node.id())
				.tag("address", node.host() + ":" + node.port())
				.description("Whether the memcached node is up (1) or down (0) for this server")
				.register(registry);
		}
	}

}
