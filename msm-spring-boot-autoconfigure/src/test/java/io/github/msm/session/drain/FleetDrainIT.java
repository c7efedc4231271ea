package io.github.msm.session.drain;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServers;
import io.github.msm.test.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two servers (two stores over the same memcached nodes) share drains: a drain sent to
 * one holds on the other at its next poll, and for a server that starts later; a node
 * that restarted empty gets the record back.
 */
class FleetDrainIT {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(3);

	private final List<AutoCloseable> closeables = new ArrayList<>();

	private final MutableClock clock = new MutableClock(Duration.ZERO);

	private MemcachedStore storeA;

	private MemcachedStore storeB;

	private FleetDrain serverA;

	private FleetDrain serverB;

	@BeforeEach
	void twoServers() {
		this.storeA = store();
		this.storeB = store();
		this.serverA = drain(this.storeA);
		this.serverB = drain(this.storeB);
	}

	@AfterEach
	void close() throws Exception {
		for (AutoCloseable closeable : this.closeables) {
			closeable.close();
		}
	}

	@Test
	void set_Drain_ShouldHoldOnTheOtherServerAtItsNextPoll() {
		List<String> storedOn = this.serverA.set(node(this.storeA, "n2"), true);
		this.serverB.poll();

		assertThat(storedOn).containsExactly("n1", "n2", "n3");
		assertThat(this.storeB.availability().isDrained(node(this.storeB, "n2"))).isTrue();
		assertThat(this.storeB.availability().isDrained(node(this.storeB, "n1"))).isFalse();
	}

	@Test
	void set_UndrainOnTheOtherServer_ShouldEndTheDrainOnBoth() {
		this.serverA.set(node(this.storeA, "n2"), true);
		this.clock.advance(Duration.ofSeconds(1));
		this.serverB.set(node(this.storeB, "n2"), false);
		this.serverA.poll();

		assertThat(this.storeA.availability().isDrained(node(this.storeA, "n2"))).isFalse();
		assertThat(this.storeB.availability().isDrained(node(this.storeB, "n2"))).isFalse();
	}

	@Test
	void start_OfAServerStartedAfterTheDrain_ShouldApplyIt() {
		this.serverA.set(node(this.storeA, "n3"), true);

		MemcachedStore storeC = store();
		drain(storeC).start();

		assertThat(storeC.availability().isDrained(node(storeC, "n3"))).isTrue();
	}

	@Test
	void poll_AfterANodeRestartedEmpty_ShouldWriteTheRecordBackToIt() {
		this.serverA.set(node(this.storeA, "n2"), true);
		memcached.node("n1").restart();

		// the store reconnects to the restarted node in the background: poll until it answers
		await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
			this.serverB.poll();
			assertThat(memcached.node("n1").get(this.serverB.key(node(this.storeB, "n2")))).isNotNull();
		});
	}

	@Test
	void poll_WithRecordsOfDifferentAge_ShouldApplyTheNewest() {
		String key = this.serverA.key(node(this.storeA, "n2"));
		memcached.node("n1").set(key, "4001".getBytes(StandardCharsets.US_ASCII), 0);
		memcached.node("n3").set(key, "2000".getBytes(StandardCharsets.US_ASCII), 0);

		this.serverA.poll();

		assertThat(this.storeA.availability().isDrained(node(this.storeA, "n2"))).isTrue();
		assertThat(new String(memcached.node("n3").get(key), StandardCharsets.US_ASCII)).isEqualTo("4001");
	}

	@Test
	void poll_OfAnItemThatIsNoRecord_ShouldIgnoreIt() {
		String key = this.serverA.key(node(this.storeA, "n2"));
		memcached.node("n1").set(key, "drain soon".getBytes(StandardCharsets.US_ASCII), 0);

		this.serverA.poll();

		assertThat(this.storeA.availability().isDrained(node(this.storeA, "n2"))).isFalse();
	}

	private MemcachedStore store() {
		NodeRing ring = NodeRing.parse(List.of(memcached.nodesProperty()));
		MemcachedStore store = new MemcachedStore(ring.nodes(), true, Duration.ofMillis(1000));
		this.closeables.add(store);
		return store;
	}

	private FleetDrain drain(MemcachedStore store) {
		FleetDrain drain = new FleetDrain(store, "", this.clock, Duration.ofHours(1));
		this.closeables.add(0, drain);
		return drain;
	}

	private static MemcachedNode node(MemcachedStore store, String id) {
		return store.availability().nodes().stream().filter((node) -> node.id().equals(id)).findFirst().orElseThrow();
	}

}
