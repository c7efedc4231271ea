package io.github.msm.session.node;

import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class NodeRingTest {

	@Test
	void parse_SpaceSeparatedNodes_ShouldKeepRingOrder() {
		NodeRing ring = NodeRing.parse(List.of("n1:host1:11211 n2:host2:11212"));
		assertThat(ring.nodes()).extracting(MemcachedNode::id).containsExactly("n1", "n2");
		assertThat(ring.isNodeIdInSessionId()).isTrue();
	}

	@Test
	void parse_CommaSeparatedNodes_ShouldReadEach() {
		NodeRing ring = NodeRing.parse(List.of("n1:a:1,n2:b:2 , n3:c:3"));
		assertThat(ring.nodes()).extracting(MemcachedNode::toString).containsExactly("n1:a:1", "n2:b:2", "n3:c:3");
	}

	@Test
	void parse_ListOfEntries_ShouldReadEach() {
		NodeRing ring = NodeRing.parse(List.of("n1:a:1", "n2:b:2"));
		assertThat(ring.nodes()).hasSize(2);
	}

	@Test
	void parse_SinglePlainHostPort_ShouldPutNoNodeIdInSessionIds() {
		NodeRing ring = NodeRing.parse(List.of("localhost:11211"));
		assertThat(ring.isNodeIdInSessionId()).isFalse();
		assertThat(ring.nodes()).singleElement().extracting(MemcachedNode::port).isEqualTo(11211);
	}

	@Test
	void parse_SingleNodeWithId_ShouldPutNodeIdInSessionIds() {
		assertThat(NodeRing.parse(List.of("n1:localhost:11211")).isNodeIdInSessionId()).isTrue();
	}

	@Test
	void parse_EntryWithoutPort_ShouldNameTheEntry() {
		assertThatIllegalArgumentException().isThrownBy(() -> NodeRing.parse(List.of("n1:host")))
			.withMessage("'n1:host' is not id:host:port");
	}

	@Test
	void parse_PortOutOfRange_ShouldFail() {
		assertThatIllegalArgumentException().isThrownBy(() -> NodeRing.parse(List.of("n1:h:70000")))
			.withMessageContaining("not between 1 and 65535");
	}

	@Test
	void parse_DuplicateNodeId_ShouldFail() {
		assertThatIllegalArgumentException().isThrownBy(() -> NodeRing.parse(List.of("n1:a:1 n1:b:2")))
			.withMessageContaining("used twice");
	}

	@Test
	void parse_PlainHostPortAmongSeveral_ShouldFail() {
		assertThatIllegalArgumentException().isThrownBy(() -> NodeRing.parse(List.of("a:1 b:2")))
			.withMessage("'a:1' is not id:host:port");
	}

	@Test
	void parse_Nothing_ShouldFail() {
		assertThatIllegalArgumentException().isThrownBy(() -> NodeRing.parse(List.of(" ")));
	}

	@Test
	void backupOf_ShouldBeNextNodeAndWrapAround() {
		NodeRing ring = NodeRing.parse(List.of("n1:a:1 n2:b:2 n3:c:3"));
		assertThat(ring.backupOf(ring.node("n1"))).isEqualTo(ring.node("n2"));
		assertThat(ring.backupOf(ring.node("n3"))).isEqualTo(ring.node("n1"));
	}

	@Test
	void backupOf_SingleNode_ShouldBeNull() {
		NodeRing ring = NodeRing.parse(List.of("n1:a:1"));
		assertThat(ring.backupOf(ring.node("n1"))).isNull();
	}

	@Test
	void nodeForNewSession_ShouldSpreadOverAllNodes() {
		NodeRing ring = NodeRing.parse(List.of("n1:a:1 n2:b:2 n3:c:3"));
		assertThat(java.util.stream.IntStream.range(0, 300).mapToObj((i) -> ring.nodeForNewSession().id()))
			.contains("n1", "n2", "n3");
	}

}
