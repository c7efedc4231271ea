package io.github.msm.session.node;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import org.jspecify.annotations.Nullable;

/**
 * Where sessions go, given which nodes are up: the ring's order and failover-only nodes
 * combined with {@link NodeAvailability}.
 *
 * <p>
 * A session's backup lives on the next node of the ring that is up, skipping down
 * nodes; failover nodes serve only while no regular node is up. A session whose primary
 * is down moves to the node that the same walk finds first.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class NodeSelector {

	private final NodeRing ring;

	private final NodeAvailability availability;

	public NodeSelector(NodeRing ring, NodeAvailability availability) {
		this.ring = ring;
		this.availability = availability;
	}

	public NodeRing ring() {
		return this.ring;
	}

	public NodeAvailability availability() {
		return this.availability;
	}

	public boolean isAvailable(MemcachedNode node) {
		return this.availability.isAvailable(node);
	}

	/**
	 * The node a new session starts on, at random among the regular nodes that are up,
	 * else among the failover nodes that are up.
	 * @return the node, or {@code null} when no node is up
	 */
	public @Nullable MemcachedNode nodeForNewSession() {
		List<MemcachedNode> candidates = candidates(false);
		if (candidates.isEmpty()) {
			candidates = candidates(true);
		}
		if (candidates.isEmpty()) {
			return null;
		}
		return candidates.get(ThreadLocalRandom.current().nextInt(candidates.size()));
	}

	/**
	 * The node a session kept locally moves to once nodes are up: chosen from its id among
	 * the regular nodes that are up (else the failover nodes), so that every request and
	 * every server moves it to the same node.
	 * @param id the session's id
	 * @return the node, or {@code null} when no node is up
	 */
	public @Nullable MemcachedNode nodeFor(String id) {
		List<MemcachedNode> candidates = candidates(false);
		if (candidates.isEmpty()) {
			candidates = candidates(true);
		}
		if (candidates.isEmpty()) {
			return null;
		}
		return candidates.get(Math.floorMod(id.hashCode(), candidates.size()));
	}

	/**
	 * The node that holds the backup of a session on the given primary: the next regular
	 * node of the ring that is up, else the next failover node that is up.
	 * @param primary the primary node
	 * @return the node, or {@code null} when no other node is up
	 */
	public @Nullable MemcachedNode backupOf(MemcachedNode primary) {
		return nextAfter(primary);
	}

	/**
	 * Where a session whose primary is down (or a failover node) moves: the first node
	 * after it in the ring that is up, regular nodes first.
	 * @param primary the session's node
	 * @return the node, or {@code null} when no other node is up
	 */
	public @Nullable MemcachedNode relocationTarget(MemcachedNode primary) {
		return nextAfter(primary);
	}

	/**
	 * Whether a session on this node should move to a regular node: it sits on a failover
	 * node while a regular node is up again, or on a drained node while another node that
	 * is not drained is up.
	 */
	public boolean shouldLeave(MemcachedNode node) {
		if (this.availability.isDrained(node)) {
			return !undrained(false).isEmpty() || !undrained(true).isEmpty();
		}
		return this.ring.isFailoverNode(node) && !undrained(false).isEmpty();
	}

	/** Every node that is up except the given one, in ring order after it. */
	public List<MemcachedNode> othersUp(MemcachedNode node) {
		List<MemcachedNode> nodes = this.ring.nodes();
		int start = nodes.indexOf(node);
		List<MemcachedNode> others = new ArrayList<>(nodes.size());
		for (int i = 1; i < nodes.size(); i++) {
			MemcachedNode candidate = nodes.get((start + i) % nodes.size());
			if (this.availability.isAvailable(candidate)) {
				others.add(candidate);
			}
		}
		return others;
	}

	/** The first node up after this one: regular, else failover, else drained. */
	private @Nullable MemcachedNode nextAfter(MemcachedNode node) {
		MemcachedNode failover = null;
		MemcachedNode drained = null;
		for (MemcachedNode candidate : othersUp(node)) {
			if (this.availability.isDrained(candidate)) {
				drained = (drained != null) ? drained : candidate;
			}
			else if (!this.ring.isFailoverNode(candidate)) {
				return candidate;
			}
			else if (failover == null) {
				failover = candidate;
			}
		}
		return (failover != null) ? failover : drained;
	}

	/**
	 * Regular or failover nodes for new sessions: those up and not drained, else the
	 * drained ones that are up (a drain never sends sessions into this server's memory).
	 */
	private List<MemcachedNode> candidates(boolean failover) {
		List<MemcachedNode> candidates = undrained(failover);
		if (candidates.isEmpty()) {
			for (MemcachedNode node : this.ring.nodes()) {
				if (this.ring.isFailoverNode(node) == failover && this.availability.isAvailable(node)) {
					candidates.add(node);
				}
			}
		}
		return candidates;
	}

	private List<MemcachedNode> undrained(boolean failover) {
		List<MemcachedNode> candidates = new ArrayList<>();
		for (MemcachedNode node : this.ring.nodes()) {
			if (this.ring.isFailoverNode(node) == failover && this.availability.isAvailable(node)
					&& !this.availability.isDrained(node)) {
				candidates.add(node);
			}
		}
		return candidates;
	}

}
