package io.github.msm.session.lock;

import java.time.Clock;
import java.util.List;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeAvailability;
import io.github.msm.session.node.NodeRing;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class LockPlacementTest {

	private static final String BASE = "0123456789abcdef0123456789abcdef";

	private final NodeRing ring = NodeRing.parse(List.of("n1:h:1 n2:h:2 n3:h:3"));

	private final NodeAvailability availability = new NodeAvailability(this.ring.nodes(), Clock.systemUTC());

	private final LockPlacement placement = new LockPlacement(this.ring, this.availability);

	@Test
	void base_OfIdsWithOtherNodesAndRoutes_ShouldBeTheSame() {
		assertThat(List.of(BASE + "-n1", BASE + "-n2", BASE + "-n1.app1", BASE + "-n3.app2", BASE, BASE + ".app1"))
			.extracting(LockPlacement::base)
			.containsOnly(BASE);
	}

	@Test
	void nodeFor_EveryNodeUp_ShouldBeTheHomeOnEveryServer() {
		LockPlacement otherServer = new LockPlacement(this.ring,
				new NodeAvailability(this.ring.nodes(), Clock.systemUTC()));

		assertThat(this.placement.nodeFor(BASE)).isEqualTo(this.placement.home(BASE))
			.isEqualTo(otherServer.nodeFor(BASE));
	}

	@Test
	void home_OfManyBases_ShouldSpreadOverEveryNode() {
		assertThat(List.of("00000000", "00000001", "00000002", "ffffffff", "7fffffff", "80000000"))
			.extracting((prefix) -> this.placement.home(prefix + BASE.substring(8)).id())
			.contains("n1", "n2", "n3");
	}

	@Test
	void nodeFor_HomeDown_ShouldBeTheNextNodeUpInRingOrder() {
		MemcachedNode home = this.placement.home(BASE);
		this.availability.failed(home, "test");

		assertThat(this.placement.nodeFor(BASE)).isEqualTo(next(home, 1));

		this.availability.failed(next(home, 1), "test");

		assertThat(this.placement.nodeFor(BASE)).isEqualTo(next(home, 2));
	}

	@Test
	void nodeFor_NoNodeUp_ShouldBeNull() {
		this.ring.nodes().forEach((node) -> this.availability.failed(node, "test"));

		assertThat(this.placement.nodeFor(BASE)).isNull();
	}

	@Test
	void nodeFor_WithAFailoverNode_ShouldUseItOnlyWhileNoRegularNodeIsUp() {
		NodeRing withFailover = this.ring.withFailoverNodes(List.of("n3"));
		LockPlacement failoverPlacement = new LockPlacement(withFailover, this.availability);
		MemcachedNode n3 = withFailover.node("n3");
		for (String prefix : List.of("00000000", "00000001", "00000002", "00000003")) {
			assertThat(failoverPlacement.home(prefix + BASE.substring(8))).as("home").isNotEqualTo(n3);
		}

		this.availability.failed(withFailover.node("n1"), "test");
		assertThat(failoverPlacement.nodeFor(BASE)).isEqualTo(withFailover.node("n2"));
		this.availability.failed(withFailover.node("n2"), "test");
		assertThat(failoverPlacement.nodeFor(BASE)).isEqualTo(n3);
	}

	private MemcachedNode next(MemcachedNode node, int steps) {
		List<MemcachedNode> nodes = this.ring.nodes();
		return nodes.get((nodes.indexOf(node) + steps) % nodes.size());
	}

}
