package io.github.msm.session;

import java.util.List;

import io.github.msm.session.node.NodeRing;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class SessionIdFormatRouteTest {

	private static final String BASE = "0123456789abcdef0123456789abcdef";

	private final NodeRing ring = NodeRing.parse(List.of("n1:localhost:1 n2:localhost:2"));

	private final SessionIdFormat format = new SessionIdFormat(this.ring, "app1");

	@Test
	void newId_WithRoute_ShouldEndWithTheRoute() {
		assertThat(this.format.newId(this.ring.node("n1"))).matches("[0-9a-f]{32}-n1\\.app1");
	}

	@Test
	void nodeOf_IdWithAnyRoute_ShouldFindTheNode() {
		assertThat(this.format.nodeOf(BASE + "-n2.other_9")).isEqualTo(this.ring.node("n2"));
		assertThat(this.format.nodeOf(BASE + "-n2")).isEqualTo(this.ring.node("n2"));
		assertThat(new SessionIdFormat(this.ring).nodeOf(BASE + "-n2.app1")).isEqualTo(this.ring.node("n2"));
	}

	@Test
	void nodeOf_MalformedRoute_ShouldBeNoId() {
		assertThat(this.format.nodeOf(BASE + "-n2.")).isNull();
		assertThat(this.format.nodeOf(BASE + "-n2.a.b")).isNull();
		assertThat(this.format.nodeOf(BASE + "-n2.a-b")).isNull();
		assertThat(this.format.nodeOf(BASE + "-n2." + "r".repeat(33))).isNull();
	}

	@Test
	void withOwnRoute_ShouldKeepBaseAndNode() {
		assertThat(this.format.withOwnRoute(BASE + "-n2.app2")).isEqualTo(BASE + "-n2.app1");
		assertThat(this.format.withOwnRoute(BASE + "-n2")).isEqualTo(BASE + "-n2.app1");
	}

	@Test
	void onNode_ShouldKeepTheIdsRoute() {
		assertThat(this.format.onNode(BASE + "-n1.app2", this.ring.node("n2"))).isEqualTo(BASE + "-n2.app2");
	}

	@Test
	void route_Malformed_ShouldBeRefused() {
		assertThatIllegalArgumentException().isThrownBy(() -> new SessionIdFormat(this.ring, "a.b"));
	}

}
