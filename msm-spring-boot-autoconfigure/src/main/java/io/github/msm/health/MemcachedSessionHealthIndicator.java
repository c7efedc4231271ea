package io.github.msm.health;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.session.storage.NodeReport;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.util.Assert;

/**
 * Health of the memcached session store: {@code UP} when every node answers; {@code UP}
 * with the down nodes listed when some do not, since each session then has a copy on a
 * node that answers; {@code DOWN} when none answers (new sessions are then kept in this
 * server's memory only).
 *
 * <p>
 * {@code DOWN} while the application still serves requests from stand-ins and local
 * sessions follows Boot's convention for data stores (as the Redis and Cassandra
 * indicators): the indicator says whether the store works, not whether the application
 * does. It therefore belongs in neither Kubernetes probe group. Not liveness: restarting a
 * server because memcached is unreachable loses the sessions it holds in memory and fixes
 * nothing. Not readiness: all servers see the same nodes, so a memcached outage would take
 * every server out of the load balancer at once, while each of them could still serve.
 * Boot's {@code /actuator/health/liveness} and {@code /actuator/health/readiness} groups
 * leave it out by default; alert on this indicator, or on {@code msm.node.up}, instead.
 *
 * <p>
 * Details per node: address, up or down, drained, latency of a {@code stats} round trip,
 * and the last error. Nodes the store already knows to be down are not asked, and the
 * others are asked all at once, so that a check takes at most the operation timeout even
 * when a node hangs.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public class MemcachedSessionHealthIndicator extends AbstractHealthIndicator {

	private final MemcachedStore store;

	/**
	 * @param store the store whose nodes to check
	 */
	public MemcachedSessionHealthIndicator(MemcachedStore store) {
		super("memcached session store health check failed");
		Assert.notNull(store, "store must not be null");
		this.store = store;
	}

	@Override
	protected void doHealthCheck(Health.Builder builder) {
		List<NodeReport> reports = this.store.report();
		Map<String, Object> nodes = new LinkedHashMap<>();
		List<String> down = new ArrayList<>();
		for (NodeReport report : reports) {
			nodes.put(report.node().id(), details(report));
			if (!report.healthy()) {
				down.add(report.node().id());
			}
		}
		if (down.size() == reports.size()) {
			builder.down()
				.withDetail("sessions", "no memcached node answers: new and changed sessions are kept in this"
						+ " server's memory only, sessions on the nodes cannot be read (stand-ins serve them)");
		}
		else {
			builder.up();
		}
		if (!down.isEmpty()) {
			builder.withDetail("downNodes", down);
		}
		builder.withDetail("nodes", nodes);
	}

	private static Map<String, Object> details(NodeReport report) {
		Map<String, Object> details = new LinkedHashMap<>();
		details.put("address", report.node().host() + ":" + report.node().port());
		details.put("status", report.healthy() ? "UP" : "DOWN");
		if (report.drained()) {
			details.put("drained", true);
		}
		if (report.latency() != null) {
			details.put("latencyMillis", report.latency().toNanos() / 1_000_000.0);
		}
		if (report.lastError() != null) {
			details.put("lastError", report.lastError());
		}
		if (report.since() != null) {
			details.put("since", report.since().toString());
		}
		return details;
	}

}
