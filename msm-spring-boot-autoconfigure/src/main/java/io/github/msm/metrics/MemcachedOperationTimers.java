package io.github.msm.metrics;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.storage.OperationTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Times memcached operations in {@code msm.memcached.operations}, tagged by operation,
 * node and outcome. Each timer is registered once and then found in a map, so that an
 * operation costs two clock reads and one map lookup more.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class MemcachedOperationTimers implements OperationTimer {

	private final MeterRegistry registry;

	private final Map<Key, Timer> timers = new ConcurrentHashMap<>();

	MemcachedOperationTimers(MeterRegistry registry) {
		this.registry = registry;
	}

	@Override
	public void record(String operation, MemcachedNode node, long nanos, boolean succeeded) {
		Key key = new Key(operation, node, succeeded);
		Timer timer = this.timers.get(key);
		if (timer == null) {
			timer = this.timers.computeIfAbsent(key, this::register);
		}
		timer.record(nanos, TimeUnit.NANOSECONDS);
	}

	private Timer register(Key key) {
		return Timer.builder("msm.memcached.operations")
			.tag("operation", key.operation())
			.tag("node", key.node().id())
			.tag("outcome", key.succeeded() ? "success" : "failure")
			.description("Time of memcached operations by operation and node, until the answer or the failure")
			.register(this.registry);
	}

	private record Key(String operation, MemcachedNode node, boolean succeeded) {
	}

}
