package io.github.msm.session.lock;

import java.util.List;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeAvailability;
import io.github.msm.session.node.NodeRing;
import org.jspecify.annotations.Nullable;

/**
 * Where the lock item of a session lives: chosen from the session's <em>base</em> (the
 * 32 random hex characters every id of the session starts with), never from the node or
 * route an id names, so that every id the session has had or will have (moved by a node
 * failover {@code …-n1} → {@code …-n2}, taken over by another server {@code .app1} →
 * {@code .app2}) leads every server to the same item.
 *
 * <p>
 * The base picks a <em>home</em> node among the regular nodes (a hash of the base,
 * evenly spread, the same on every server because every server has the same ring). The
 * lock lives on the first node that is up in ring order from the home: the home while it
 * is up, else the next one, and failover-only nodes only while no regular node is up. A
 * server that still takes a dead node for up fails its {@code add} there, which marks the
 * node down, and moves on to the same next node as everyone else. Draining is not
 * considered: it is one server's local state, and servers must agree on the place. When
 * the home comes back while a request still holds the lock on the next node, the place
 * moves back under that holder: so whoever takes the item also looks for it on the other
 * nodes up, and waits while it is held there (see {@link LockItems}).
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class LockPlacement {

	/** Length of an id's random base. */
	static final int BASE_LENGTH = 32;

	private final NodeRing ring;

	private final NodeAvailability availability;

	private final List<MemcachedNode> regular;

	LockPlacement(NodeRing ring, NodeAvailability availability) {
		this.ring = ring;
		this.availability = availability;
		this.regular = ring.nodes().stream().filter((node) -> !ring.isFailoverNode(node)).toList();
	}

	/**
	 * The session's base.
	 * @param sessionId a valid id of this store (with or without node and route)
	 */
	static String base(String sessionId) {
		return sessionId.substring(0, BASE_LENGTH);
	}

	/**
	 * The node whose item is the session's lock while every node is up.
	 * @param base a session's base
	 */
	MemcachedNode home(String base) {
		long hash = Long.parseLong(base, 0, 8, 16);
		return this.regular.get((int) (hash % this.regular.size()));
	}

	/**
	 * The node that holds the session's lock now, as this server sees the nodes.
	 * @param base a session's base
	 * @return the first regular node up in ring order from the home, else the first
	 * failover node up, else {@code null} when no node is up
	 */
	@Nullable MemcachedNode nodeFor(String base) {
		List<MemcachedNode> nodes = this.ring.nodes();
		int start = nodes.indexOf(home(base));
		MemcachedNode failover = null;
		for (int i = 0; i < nodes.size(); i++) {
			MemcachedNode candidate = nodes.get((start + i) % nodes.size());
			if (!this.availability.isAvailable(candidate)) {
				continue;
			}
			if (!this.ring.isFailoverNode(candidate)) {
				return candidate;
			}
			if (failover == null) {
				failover = candidate;
			}
		}
		return failover;
	}

	/**
	 * The nodes up other than the given one, in ring order: where a request may hold the
	 * lock that it took while the given node was down.
	 */
	List<MemcachedNode> othersUp(MemcachedNode node) {
		return this.ring.nodes()
			.stream()
			.filter((other) -> !other.equals(node) && this.availability.isAvailable(other))
			.toList();
	}

	boolean isAvailable(MemcachedNode node) {
		return this.availability.isAvailable(node);
	}

}
