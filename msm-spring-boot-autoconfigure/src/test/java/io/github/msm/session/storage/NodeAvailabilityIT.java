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
	void probe_KilledNodeStartedAgain_ShouldMarkItUpAndCountARestart() {
		MemcachedStore store = store(memcached.nodesProperty());
		MemcachedNode n1 = node("n1");
		memcached.node("n1").kill();
		await().atMost(NodeProbe.UP_INTERVAL.plusSeconds(2)).until(() -> !store.availability().isAvailable(n1));

		memcached.node("n1").restart();

		await().atMost(Duration.ofSeconds(3)).until(() -> store.availability().isAvailable(n1));
		assertThat(store.availability().restarts(n1)).isEqualTo(1);
		assertThat(store.set(n1, "k", 0, VALUE)).isTrue();
	}

	@Test
	void probe_HungNodeResumed_ShouldMarkItUpWithoutCountingARestart() {
		MemcachedStore store = store(memcached.nodesProperty());
		MemcachedNode n1 = node("n1");
		memcached.node("n1").hang();
		await().atMost(NodeProbe.UP_INTERVAL.plusSeconds(2)).until(() -> !store.availability().isAvailable(n1));

		memcached.node("n1").resume();

		await().atMost(Duration.ofSeconds(3)).until(() -> store.availability().isAvailable(n1));
		assertThat(store.availability().restarts(n1)).isZero();
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
		this.ring = NodeRing.parse(List.of(nodes));
		MemcachedStore store = new MemcachedStore(this.ring.nodes(), true, TIMEOUT);
		this.stores.add(store);
		return store;
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
