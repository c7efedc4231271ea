package io.github.msm.session.storage;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeAvailability;
import net.spy.memcached.MemcachedClient;
import net.spy.memcached.OperationFactory;
import org.jspecify.annotations.Nullable;

/**
 * Builds {@link NodeReport}s: sends {@code stats} to every node that is up at once, then
 * waits for all answers against one deadline, so that a hung node costs the operation
 * timeout once, not once per node, and a down node costs nothing.
 *
 * <p>
 * The reports only read: a node that does not answer is reported as such but not marked
 * down; the probe and the requests keep that role.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class NodeReports {

	private final Map<MemcachedNode, NodeConnection> connections;

	private final NodeAvailability availability;

	private final OperationFactory operations;

	/** Proxies such as twemproxy close the connection on "stats": they are asked "version". */
	private final boolean versionOnly;

	NodeReports(Map<MemcachedNode, NodeConnection> connections, NodeAvailability availability,
			OperationFactory operations, boolean versionOnly) {
		this.versionOnly = versionOnly;
		this.connections = connections;
		this.availability = availability;
		this.operations = operations;
	}

	List<NodeReport> collect(long timeoutNanos) {
		long start = System.nanoTime();
		Map<MemcachedNode, NodeProbe.@Nullable Stats> asked = new LinkedHashMap<>();
		for (MemcachedNode node : this.connections.keySet()) {
			asked.put(node, this.availability.isAvailable(node) ? ask(node, timeoutNanos) : null);
		}
		long deadline = start + timeoutNanos;
		List<NodeReport> reports = new ArrayList<>(asked.size());
		asked.forEach((node, stats) -> reports.add(report(node, stats, start, deadline)));
		return reports;
	}

	private NodeProbe.@Nullable Stats ask(MemcachedNode node, long timeoutNanos) {
		NodeConnection connection = this.connections.get(node);
		MemcachedClient client = connection.client();
		if (client == null || !connection.isConnected()) {
			return null;
		}
		NodeProbe.Stats stats = new NodeProbe.Stats(timeoutNanos, this.versionOnly);
		try {
			client.broadcastOp((spyNode, latch) -> stats.operation(this.operations, latch));
			return stats;
		}
		catch (RuntimeException ex) {
			return null;
		}
	}

	private NodeReport report(MemcachedNode node, NodeProbe.@Nullable Stats stats, long start, long deadline) {
		NodeAvailability.Status status = this.availability.status(node);
		boolean drained = this.availability.isDrained(node);
		if (!status.up()) {
			return new NodeReport(node, false, drained, false, null, status.lastError(), status.since(), Map.of());
		}
		if (stats == null) {
			return new NodeReport(node, true, drained, false, null, "not connected", status.since(), Map.of());
		}
		String failure = stats.await(deadline);
		if (failure != null) {
			return new NodeReport(node, true, drained, false, null, failure, status.since(), Map.of());
		}
		Duration latency = Duration.ofNanos(stats.answeredAt() - start);
		return new NodeReport(node, true, drained, true, latency, null, status.since(),
				Map.copyOf(stats.values()));
	}

}
