package io.github.msm.health;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.github.msm.session.node.NodeRing;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The {@code memcachedSession} health of three real memcached nodes, as they die and hang.
 */
class MemcachedSessionHealthIndicatorIT {

	private static final Duration TIMEOUT = Duration.ofMillis(500);

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(3);

	private MemcachedStore store;

	private MemcachedSessionHealthIndicator indicator;

	@BeforeEach
	void connect() {
		this.store = new MemcachedStore(NodeRing.parse(List.of(memcached.nodesProperty())).nodes(), true, TIMEOUT);
		this.indicator = new MemcachedSessionHealthIndicator(this.store);
	}

	@AfterEach
	void close() {
		this.store.close();
	}

	@Test
	void health_WhenAllNodesAnswer_ShouldBeUpWithLatencyPerNode() {
		Health health = this.indicator.health();

		assertThat(health.getStatus()).isEqualTo(Status.UP);
		assertThat(health.getDetails()).doesNotContainKey("downNodes");
		Map<String, Map<String, Object>> nodes = nodes(health);
		assertThat(nodes).containsOnlyKeys("n1", "n2", "n3");
		assertThat(nodes.get("n2")).containsEntry("status", "UP")
			.containsEntry("address", memcached.node("n2").address())
			.containsKey("latencyMillis");
	}

	@Test
	void health_WhenOneNodeIsKilled_ShouldBeUpListingTheDownNodeWithItsError() {
		memcached.node("n2").kill();
		this.store.get(this.store.availability().nodes().get(1), "any");

		Health health = this.indicator.health();

		assertThat(health.getStatus()).isEqualTo(Status.UP);
		assertThat(health.getDetails()).containsEntry("downNodes", List.of("n2"));
		assertThat(nodes(health).get("n2")).containsEntry("status", "DOWN").containsKey("lastError");
		assertThat(nodes(health).get("n1")).containsEntry("status", "UP");
	}

	@Test
	void health_WhenAllNodesAreKilled_ShouldBeDown() {
		memcached.all().forEach((server) -> server.kill());
		this.store.availability().nodes().forEach((node) -> this.store.get(node, "any"));

		Health health = this.indicator.health();

		assertThat(health.getStatus()).isEqualTo(Status.DOWN);
		assertThat(health.getDetails()).containsEntry("downNodes", List.of("n1", "n2", "n3"));
	}

	@Test
	void health_WhenAllNodesAreKilled_ShouldSayWhereSessionsLiveMeanwhile() {
		memcached.all().forEach((server) -> server.kill());
		this.store.availability().nodes().forEach((node) -> this.store.get(node, "any"));

		Health health = this.indicator.health();

		assertThat((String) health.getDetails().get("sessions")).contains("this server's memory only");
	}

	@Test
	void health_WhenANodeIsKilled_ShouldNameTheRefusedConnection() {
		memcached.node("n2").kill();
		this.store.get(this.store.availability().nodes().get(1), "any");

		// the probe, which looks at down nodes about once a second, names the cause
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat((String) nodes(this.indicator.health()).get("n2").get("lastError"))
				.contains("connection refused by " + memcached.node("n2").address()));
	}

	@Test
	void health_WhenAKilledNodeIsBack_ShouldShowNoLastError() {
		memcached.node("n2").kill();
		this.store.get(this.store.availability().nodes().get(1), "any");
		assertThat(nodes(this.indicator.health()).get("n2")).containsKey("lastError");

		memcached.node("n2").restart();

		await().atMost(Duration.ofSeconds(20))
			.untilAsserted(() -> assertThat(nodes(this.indicator.health()).get("n2")).containsEntry("status", "UP")
				.doesNotContainKey("lastError"));
	}

	@Test
	void health_WhenANodeHangsUnnoticed_ShouldAnswerWithinTheOperationTimeoutAndShowItDown() {
		memcached.node("n3").hang();
		memcached.node("n1").hang();

		long start = System.nanoTime();
		Health health = this.indicator.health();
		Duration took = Duration.ofNanos(System.nanoTime() - start);

		assertThat(took).isLessThan(TIMEOUT.plusMillis(400));
		assertThat(health.getStatus()).isEqualTo(Status.UP);
		assertThat(nodes(health).get("n3")).containsEntry("status", "DOWN");
		assertThat(nodes(health).get("n1")).containsEntry("status", "DOWN");
		assertThat(nodes(health).get("n2")).containsEntry("status", "UP");
	}

	@SuppressWarnings("unchecked")
	private static Map<String, Map<String, Object>> nodes(Health health) {
		return (Map<String, Map<String, Object>>) health.getDetails().get("nodes");
	}

}
