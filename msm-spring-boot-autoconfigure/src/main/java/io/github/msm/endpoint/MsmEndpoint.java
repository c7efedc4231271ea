package io.github.msm.endpoint;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeAvailability;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.session.storage.NodeReport;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.util.Assert;

/**
 * The {@code msm} actuator endpoint: how the store is set up and how its nodes are doing,
 * with memcached's own {@code stats}; and drain and undrain of a node.
 *
 * <p>
 * Reading shows the settings it was given (chosen by the auto-configuration, never a
 * secret) and, per node, its address, status, whether it is drained and a few of its
 * {@code stats}. {@code POST /actuator/msm/{node}} with {@code {"action": "drain"}} drains
 * the node on this server: no new sessions start there and sessions on it move to another
 * node at their next access; {@code "undrain"} ends that. A fleet drains a node by calling
 * every server.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
@Endpoint(id = "msm")
public class MsmEndpoint {

	/** The {@code stats} shown per node. */
	static final List<String> STATS = List.of("curr_items", "bytes", "limit_maxbytes", "evictions", "curr_connections",
			"get_hits", "get_misses", "uptime", "version");

	private final MemcachedStore store;

	private final NodeRing ring;

	private final Map<String, Object> settings;

	/**
	 * @param store the store
	 * @param ring its nodes
	 * @param settings what to show of the configuration (mode, serializer, key prefix, …);
	 * must not hold secrets
	 */
	public MsmEndpoint(MemcachedStore store, NodeRing ring, Map<String, Object> settings) {
		Assert.notNull(store, "store must not be null");
		Assert.notNull(ring, "ring must not be null");
		this.store = store;
		this.ring = ring;
		this.settings = Map.copyOf(settings);
	}

	@ReadOperation
	public Map<String, Object> msm() {
		Map<String, Object> body = new LinkedHashMap<>(new TreeMap<>(this.settings));
		List<Map<String, Object>> nodes = new ArrayList<>();
		for (NodeReport report : this.store.report()) {
			nodes.add(node(report));
		}
		body.put("nodes", nodes);
		return body;
	}

	/**
	 * Drains or undrains a node on this server.
	 * @param node the node id
	 * @param action {@code drain} or {@code undrain}
	 * @return the node after the change
	 */
	@WriteOperation
	public Map<String, Object> drain(@Selector String node, String action) {
		MemcachedNode target = find(node);
		if (target == null) {
			throw new InvalidEndpointRequestException("'" + node + "' is not a node of msm.nodes", "unknown node");
		}
		NodeAvailability availability = this.store.availability();
		switch (action) {
			case "drain" -> availability.drain(target);
			case "undrain" -> availability.undrain(target);
			default -> throw new InvalidEndpointRequestException(
					"action must be 'drain' or 'undrain', not '" + action + "'", "unknown action");
		}
		Map<String, Object> result = new LinkedHashMap<>();
		result.put("id", target.id());
		result.put("drained", availability.isDrained(target));
		return result;
	}

	private @Nullable MemcachedNode find(String id) {
		for (MemcachedNode node : this.ring.nodes()) {
			if (node.id().equals(id)) {
				return node;
			}
		}
		return null;
	}

	private static boolean isNumber(String value) {
		return !value.isEmpty() && value.length() < 19 && value.chars().allMatch(Character::isDigit);
	}

	private Map<String, Object> node(NodeReport report) {
		Map<String, Object> node = new LinkedHashMap<>();
		node.put("id", report.node().id());
		node.put("address", report.node().host() + ":" + report.node().port());
		node.put("status", report.healthy() ? "UP" : "DOWN");
		node.put("drained", report.drained());
		node.put("failoverOnly", this.ring.isFailoverNode(report.node()));
		if (report.latency() != null) {
			node.put("latencyMillis", report.latency().toNanos() / 1_000_000.0);
		}
		if (report.lastError() != null) {
			node.put("lastError", report.lastError());
		}
		Map<String, Object> stats = new LinkedHashMap<>();
		for (String name : STATS) {
			String value = report.stats().get(name);
			if (value != null) {
				stats.put(name, isNumber(value) ? (Object) Long.parseLong(value) : value);
			}
		}
		node.put("stats", stats);
		return node;
	}

}
