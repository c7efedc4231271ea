package io.github.msm.session.node;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * The memcached nodes in their configured order, which is also the ring order: the
 * backup of a session whose primary is node {@code i} lives on node {@code i + 1}.
 *
 * <p>
 * Node choice lives here alone, so that availability tracking and failover-only nodes
 * can later change where sessions go without touching the repository.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class NodeRing {

	private static final Pattern WITH_ID = Pattern.compile("([A-Za-z0-9_]+):([^:\\s,]+):(\\d{1,5})");

	private static final Pattern WITHOUT_ID = Pattern.compile("([^:\\s,]+):(\\d{1,5})");

	private static final Pattern SEPARATORS = Pattern.compile("[\\s,]+");

	private final List<MemcachedNode> nodes;

	private final Map<String, MemcachedNode> byId;

	private final boolean idsInSessionIds;

	private final Set<MemcachedNode> failoverNodes;

	private NodeRing(List<MemcachedNode> nodes, boolean idsInSessionIds, Set<MemcachedNode> failoverNodes) {
		Assert.notEmpty(nodes, "at least one memcached node is needed");
		this.nodes = List.copyOf(nodes);
		this.byId = new LinkedHashMap<>();
		for (MemcachedNode node : nodes) {
			Assert.isTrue(this.byId.put(node.id(), node) == null, () -> "node id '" + node.id() + "' is used twice");
		}
		this.idsInSessionIds = idsInSessionIds;
		this.failoverNodes = Set.copyOf(failoverNodes);
	}

	/**
	 * The same ring with some nodes used only while no other node is up (msm's
	 * {@code failoverNodes}, e.g. each app server's own local memcached).
	 * @param nodeIds ids of configured nodes, separated by spaces or commas
	 * @return the ring
	 * @throws IllegalArgumentException naming an id that is not configured, or when no
	 * regular node would be left
	 */
	public NodeRing withFailoverNodes(Collection<String> nodeIds) {
		Set<MemcachedNode> failover = new LinkedHashSet<>();
		for (String entry : nodeIds) {
			for (String id : SEPARATORS.split(entry.trim())) {
				if (id.isEmpty()) {
					continue;
				}
				MemcachedNode node = this.byId.get(id);
				if (node == null) {
					throw new IllegalArgumentException("'" + id + "' is not the id of a configured node");
				}
				failover.add(node);
			}
		}
		if (!failover.isEmpty() && failover.size() >= this.nodes.size()) {
			throw new IllegalArgumentException("at least one node must not be a failover node");
		}
		return new NodeRing(this.nodes, this.idsInSessionIds, failover);
	}

	/** Whether the node is used only while no regular node is up. */
	public boolean isFailoverNode(MemcachedNode node) {
		return this.failoverNodes.contains(node);
	}

	/**
	 * Parses {@code n1:host:port n2:host:port} (entries separated by spaces or commas), or
	 * one plain {@code host:port}. A single plain node means session ids carry no node id
	 * (msm feature #105): there is nowhere else for a session to move to.
	 * @param entries the configured entries; each may hold several nodes
	 * @return the ring
	 * @throws IllegalArgumentException naming the entry that is not {@code id:host:port}
	 */
	public static NodeRing parse(Collection<String> entries) {
		List<String> tokens = new ArrayList<>();
		for (String entry : entries) {
			for (String token : SEPARATORS.split(entry.trim())) {
				if (!token.isEmpty()) {
					tokens.add(token);
				}
			}
		}
		Assert.isTrue(!tokens.isEmpty(), "no memcached node given");
		if (tokens.size() == 1) {
			Matcher plain = WITHOUT_ID.matcher(tokens.get(0));
			if (plain.matches()) {
				return new NodeRing(List.of(node("n1", plain.group(1), plain.group(2), tokens.get(0))), false, Set.of());
			}
		}
		List<MemcachedNode> nodes = new ArrayList<>();
		for (String token : tokens) {
			Matcher matcher = WITH_ID.matcher(token);
			if (!matcher.matches()) {
				throw new IllegalArgumentException("'" + token + "' is not id:host:port");
			}
			nodes.add(node(matcher.group(1), matcher.group(2), matcher.group(3), token));
		}
		return new NodeRing(nodes, true, Set.of());
	}

	private static MemcachedNode node(String id, String host, String port, String token) {
		int number = Integer.parseInt(port);
		if (number < 1 || number > 65535) {
			throw new IllegalArgumentException("'" + token + "' has port " + port + ", not between 1 and 65535");
		}
		if (id.length() > 32) {
			throw new IllegalArgumentException("'" + token + "' has a node id longer than 32 characters");
		}
		return new MemcachedNode(id, host, number);
	}

	/**
	 * Whether session ids end with {@code -<nodeId>}.
	 * @return false only for a single node given as plain {@code host:port}
	 */
	public boolean isNodeIdInSessionId() {
		return this.idsInSessionIds;
	}

	public List<MemcachedNode> nodes() {
		return this.nodes;
	}

	/**
	 * The node with this id.
	 * @param nodeId the id, usually taken from a session id
	 * @return the node, or {@code null} when no configured node has that id
	 */
	public @Nullable MemcachedNode node(String nodeId) {
		return this.byId.get(nodeId);
	}

	/**
	 * The node a new session starts on, picked at random so that load spreads evenly.
	 * @return the node
	 */
	public MemcachedNode nodeForNewSession() {
		if (this.nodes.size() == 1) {
			return this.nodes.get(0);
		}
		return this.nodes.get(ThreadLocalRandom.current().nextInt(this.nodes.size()));
	}

	/**
	 * The node that holds the backup copy of a session whose primary is the given node.
	 * @param primary the primary node
	 * @return the next node in the ring, or {@code null} with a single node
	 */
	public @Nullable MemcachedNode backupOf(MemcachedNode primary) {
		if (this.nodes.size() < 2) {
			return null;
		}
		int index = this.nodes.indexOf(primary);
		return this.nodes.get((index + 1) % this.nodes.size());
	}

}
