package io.github.msm.endpoint;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.github.msm.session.drain.FleetDrain;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.session.storage.NodeReport;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.util.Assert;

/**
 * The {@code msm} actuator endpoint: how the store is set up and how its nodes are doing,
 * with memcached's own {@code stats}; and drain and undrain of a node.
 *
 * <p>
 * Reading shows the settings it was given (chosen by the auto-configuration, never a
 * secret) and, per node, its address, status, whether it is drained and a few of its
 * {@code stats}. {@code POST /actuator/msm/{node}} with {@code {"action": "drain"}} drains
 * the node for the whole fleet (with {@link FleetDrain}; else on this server only, and the
 * answer's {@code scope} says so): no new sessions start there and sessions on it move to
 * another node at their next access; {@code "undrain"} ends that. A bad node or action
 * is answered with 400 and a body that says what is valid.
 *
 * <p>
 * The write operation changes how the whole fleet uses its nodes, so its access is
 * read-only unless the application grants more
 * ({@code management.endpoint.msm.access=unrestricted}) and, as for every write
 * operation, secures it.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
@Endpoint(id = "msm", defaultAccess = Access.READ_ONLY)
public class MsmEndpoint {

	/** The {@code stats} shown per node. */
	static final List<String> STATS = List.of("curr_items", "bytes", "limit_maxbytes", "evictions", "curr_connections",
			"get_hits", "get_misses", "uptime", "version");

	/** What {@link #drain} accepts. */
	static final List<String> ACTIONS = List.of("drain", "undrain");

	private final MemcachedStore store;

	private final NodeRing ring;

	private final Map<String, Object> settings;

	private final @Nullable FleetDrain fleetDrain;

	/**
	 * @param store the store
	 * @param ring its nodes
	 * @param settings what to show of the configuration (mode, serializer, key prefix, …);
	 * must not hold secrets
	 */
	public MsmEndpoint(MemcachedStore store, NodeRing ring, Map<String, Object> settings) {
		this(store, ring, settings, null);
	}

	/**
	 * @param store the store
	 * @param ring its nodes
	 * @param settings what to show of the configuration (mode, serializer, key prefix, …);
	 * must not hold secrets
	 * @param fleetDrain where drains go so that every server applies them, or {@code null}
	 * to drain on this server only
	 */
	public MsmEndpoint(MemcachedStore store, NodeRing ring, Map<String, Object> settings,
			@Nullable FleetDrain fleetDrain) {
		Assert.notNull(store, "store must not be null");
		Assert.notNull(ring, "ring must not be null");
		this.store = store;
		this.ring = ring;
		this.settings = Map.copyOf(settings);
		this.fleetDrain = fleetDrain;
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
	 * Drains or undrains a node, for the fleet when a {@link FleetDrain} is given.
	 * @param node the node id
	 * @param action {@code drain} or {@code undrain}
	 * @return the node after the change; 400 with a message for an unknown node or action
	 */
	@WriteOperation
	public WebEndpointResponse<Map<String, Object>> drain(@Selector String node, String action) {
		MemcachedNode target = find(node);
		if (target == null) {
			return badRequest("'" + node + "' is not a node of msm.nodes", "nodes",
					this.ring.nodes().stream().map(MemcachedNode::id).toList());
		}
		if (!ACTIONS.contains(action)) {
			return badRequest("action must be 'drain' or 'undrain', not '" + action + "'", "actions", ACTIONS);
		}
		boolean drain = action.equals("drain");
		Map<String, Object> result = new LinkedHashMap<>();
		result.put("id", target.id());
		if (this.fleetDrain != null) {
			List<String> storedOn = this.fleetDrain.set(target, drain);
			result.put("drained", this.store.availability().isDrained(target));
			result.put("scope", storedOn.isEmpty() ? "this server until a node is up" : "fleet");
			result.put("storedOn", storedOn);
		}
		else {
			if (drain) {
				this.store.availability().drain(target);
			}
			else {
				this.store.availability().undrain(target);
			}
			result.put("drained", this.store.availability().isDrained(target));
			result.put("scope", "this server only: call every server");
		}
		return new WebEndpointResponse<>(result, WebEndpointResponse.STATUS_OK);
	}

	private static WebEndpointResponse<Map<String, Object>> badRequest(String message, String validName,
			List<String> valid) {
		Map<String, Object> body = new LinkedHashMap<>();
		body.put("error", message);
		body.put(validName, valid);
		return new WebEndpointResponse<>(body, WebEndpointResponse.STATUS_BAD_REQUEST);
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
