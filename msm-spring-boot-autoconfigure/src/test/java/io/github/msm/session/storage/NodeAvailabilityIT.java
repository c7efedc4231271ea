package io.github.msm.session.storage;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeAvailability;
import io.github.msm.session.node.NodeRing;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * How the store notices that real memcached nodes die, hang, restart or never existed,
 * and how it notices them coming back.
 */
class NodeAvailabilityIT {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private static final Duration TIMEOUT = Duration.ofMillis(500);

	/** What a call may take beyond the operation timeout on a busy machine. */
	private static final Duration MARGIN = Duration.ofMillis(200);

	/** "At once": a call to a down node touches no network and waits for nothing. */
	private static final Duration AT_ONCE = Duration.ofMillis(50);

	/**
	 * How soon a node that answers again is marked up: spymemcached reconnects within a
	 * second and the probe asks down nodes every second (and at once on a reconnect).
	 */
	private static final Duration BACK_WITHIN = Duration.ofMillis(2500);

	private static final byte[] VALUE = "value".getBytes(StandardCharsets.UTF_8);

	private final List<MemcachedStore> stores = new ArrayList<>();

	private NodeRing ring;

	@AfterEach
	void closeStores() {
		this.stores.forEach(MemcachedStore::close);
	}

	@Test
	void probe_NodeRestartedWithoutAnyOperation_ShouldCountARestart() {
		MemcachedStore store = store(memcached.nodesProperty());
		MemcachedNode n1 = node("n1");

		memcached.node("n1").restart();

		await().atMost(Duration.ofSeconds(6)).until(() -> store.availability().restarts(n1) == 1);
		assertThat(store.availability().isAvailable(n1)).isTrue();
		assertThat(store.availability().restarts(node("n2"))).isZero();
	}

	@Test
	void get_KilledNode_ShouldFailWithinTheTimeoutAndThenAtOnce() {
		MemcachedStore store = store(memcached.nodesProperty());
		MemcachedNode n1 = node("n1");
		memcached.node("n1").kill();

		Duration first = timed(() -> assertThat(store.get(n1, "k")).isNull());
		Duration next = timed(() -> assertThat(store.get(n1, "k")).isNull());

		assertThat(first).isLessThan(TIMEOUT.plus(MARGIN));
		assertThat(store.availability().isAvailable(n1)).isFalse();
		assertThat(next).isLessThan(AT_ONCE);
	}

	@Test
	void probe_KilledNodeStartedAgain_ShouldMarkItUpAndCountARestart() {
		MemcachedStore store = store(memcached.nodesProperty());
		MemcachedNode n1 = node("n1");
		memcached.node("n1").kill();
		store.get(n1, "k");

		memcached.node("n1").restart();

		await().atMost(BACK_WITHIN).until(() -> store.availability().isAvailable(n1));
		assertThat(store.availability().restarts(n1)).isEqualTo(1);
		assertThat(store.set(n1, "k", 0, VALUE)).isTrue();
	}

	@Test
	void probe_KilledNodeStartedAgainOverTextProtocol_ShouldMarkItUpAndCountARestart() {
		MemcachedStore store = store(memcached.nodesProperty(), false);
		MemcachedNode n1 = node("n1");
		memcached.node("n1").kill();
		store.get(n1, "k");

		memcached.node("n1").restart();

		await().atMost(BACK_WITHIN).until(() -> store.availability().isAvailable(n1));
		assertThat(store.availability().restarts(n1)).isEqualTo(1);
	}

	@Test
	void readAll_HungNode_ShouldFailWithinOneTimeoutAndThenAtOnce() {
		MemcachedStore store = store(memcached.nodesProperty());
		MemcachedNode n1 = node("n1");
		memcached.node("n1").hang();

		Duration first = timed(() -> assertThat(store.readAll(n1, List.of("k1", "k2"))).isNull());
		Duration next = timed(() -> assertThat(store.readAll(n1, List.of("k1", "k2"))).isNull());

		assertThat(first).isLessThan(TIMEOUT.plus(MARGIN));
		assertThat(store.availability().isAvailable(n1)).isFalse();
		assertThat(next).isLessThan(AT_ONCE);
	}

	@Test
	void probe_HungNodeResumed_ShouldMarkItUpWithoutCountingARestart() {
		MemcachedStore store = store(memcached.nodesProperty());
		MemcachedNode n1 = node("n1");
		memcached.node("n1").hang();
		store.readAll(n1, List.of("k1", "k2"));

		memcached.node("n1").resume();

		await().atMost(BACK_WITHIN).until(() -> store.availability().isAvailable(n1));
		assertThat(store.availability().restarts(n1)).isZero();
		assertThat(store.set(n1, "k", 0, VALUE)).isTrue();
	}

	@Test
	void setAsync_KilledNode_ShouldMarkItDown() {
		MemcachedStore store = store(memcached.nodesProperty());
		MemcachedNode n1 = node("n1");
		memcached.node("n1").kill();

		store.setAsync(n1, "k", 0, VALUE);

		await().atMost(TIMEOUT.plus(MARGIN)).until(() -> !store.availability().isAvailable(n1));
	}

	@Test
	void operations_OnNodeMarkedDown_ShouldNotTouchTheNetwork() {
		MemcachedStore store = store(memcached.nodesProperty());
		MemcachedNode n1 = node("n1");
		memcached.resetStats();
		store.availability().failed(n1, "marked down by the test");

		assertThat(store.get(n1, "k")).isNull();
		assertThat(store.readAll(n1, List.of("k"))).isNull();
		assertThat(store.set(n1, "k", 0, VALUE)).isFalse();
		assertThat(store.add(n1, "k", 0, VALUE).result()).isEqualTo(WriteResult.FAILED);
		assertThat(store.delete(n1, "k")).isEqualTo(WriteResult.FAILED);
		store.setAsync(n1, "k", 0, VALUE);
		store.touchAsync(n1, "k", 0);
		store.deleteAsync(n1, "k");

		assertThat(store.set(node("n2"), "k", 0, VALUE)).isTrue();
		assertThat(memcached.statPerNode("cmd_get")).containsEntry("n1", 0L);
		assertThat(memcached.statPerNode("cmd_set")).containsEntry("n1", 0L).containsEntry("n2", 1L);
		assertThat(memcached.statPerNode("cmd_touch")).containsEntry("n1", 0L);
		assertThat(memcached.statPerNode("delete_misses")).containsEntry("n1", 0L);
	}

	@Test
	void probe_NodeMarkedDownThatStillAnswers_ShouldMarkItUpWithoutCountingARestart() {
		MemcachedStore store = store(memcached.nodesProperty());
		MemcachedNode n1 = node("n1");

		store.availability().failed(n1, "marked down by the test");

		await().atMost(BACK_WITHIN).until(() -> store.availability().isAvailable(n1));
		assertThat(store.availability().restarts(n1)).isZero();
	}

	@Test
	void constructor_HungNode_ShouldStartItDownWithinOneTimeout() {
		memcached.node("n1").hang();

		Duration construction = timed(() -> store(memcached.nodesProperty()));

		assertThat(construction).isLessThan(TIMEOUT.plus(MARGIN));
		assertThat(this.stores.get(0).availability().available()).extracting(MemcachedNode::id).containsExactly("n2");
	}

	@Test
	void constructor_UnresolvableHost_ShouldStartTheNodeDownAndServeTheOthers() {
		MemcachedStore store = store(memcached.nodesProperty() + " n9:no-such-host.invalid:11211");
		MemcachedNode n9 = node("n9");

		assertThat(store.availability().isAvailable(n9)).isFalse();
		assertThat(store.availability().status(n9).lastError()).contains("does not resolve");
		assertThat(store.get(n9, "k")).isNull();
		assertThat(store.set(node("n1"), "k", 0, VALUE)).isTrue();
		assertThat(store.get(node("n2"), "k")).isNull();
	}

	@Test
	void constructor_RefusedConnection_ShouldStartTheNodeDownAndServeTheOthers() throws IOException {
		MemcachedStore store = store(memcached.nodesProperty() + " n9:127.0.0.1:" + unusedPort());
		MemcachedNode n9 = node("n9");

		assertThat(store.availability().isAvailable(n9)).isFalse();
		assertThat(store.set(n9, "k", 0, VALUE)).isFalse();
		assertThat(store.set(node("n1"), "k", 0, VALUE)).isTrue();
		assertThat(store.availability().available()).extracting(MemcachedNode::id).containsExactly("n1", "n2");
	}

	private MemcachedStore store(String nodes) {
		return store(nodes, true);
	}

	private MemcachedStore store(String nodes, boolean binaryProtocol) {
		this.ring = NodeRing.parse(List.of(nodes));
		MemcachedStore store = new MemcachedStore(this.ring.nodes(), binaryProtocol, TIMEOUT);
		this.stores.add(store);
		return store;
	}

	private static Duration timed(Runnable call) {
		long start = System.nanoTime();
		call.run();
		return Duration.ofNanos(System.nanoTime() - start);
	}

	private MemcachedNode node(String id) {
		return this.ring.node(id);
	}

	private static int unusedPort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
	}

}
