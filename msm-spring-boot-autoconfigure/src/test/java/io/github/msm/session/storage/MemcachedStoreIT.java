package io.github.msm.session.storage;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import io.github.msm.test.MemcachedServers;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The byte-level store against real memcached servers, including dead and hung ones.
 */
@ExtendWith(OutputCaptureExtension.class)
class MemcachedStoreIT {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private static final byte[] VALUE = "value".getBytes(StandardCharsets.UTF_8);

	private static final Duration TIMEOUT = Duration.ofMillis(300);

	/** What a call may take beyond the operation timeout on a busy machine. */
	private static final Duration MARGIN = Duration.ofMillis(200);

	private NodeRing ring;

	private MemcachedStore store;

	@BeforeEach
	void connect() {
		this.ring = NodeRing.parse(List.of(memcached.nodesProperty()));
		this.store = new MemcachedStore(this.ring.nodes(), true, TIMEOUT);
	}

	@AfterEach
	void close() {
		this.store.close();
	}

	@Test
	void serverItemSizeMax_ShouldBeTheNodesItemSizeMax() {
		assertThat(this.store.serverItemSizeMax()).hasValue(1024 * 1024);
	}

	@Test
	void serverItemSizeMax_OverTextProtocol_ShouldBeTheNodesItemSizeMax() {
		try (MemcachedStore text = new MemcachedStore(this.ring.nodes(), false, Duration.ofMillis(300))) {
			assertThat(text.serverItemSizeMax()).hasValue(1024 * 1024);
		}
	}

	@Test
	void serverItemSizeMax_AllNodesDown_ShouldBeEmpty() {
		memcached.node("n1").kill();
		memcached.node("n2").kill();

		try (MemcachedStore down = new MemcachedStore(this.ring.nodes(), true, Duration.ofMillis(300))) {
			assertThat(down.serverItemSizeMax()).isEmpty();
		}
	}

	@Test
	void set_ShouldStoreOnTheNamedNodeOnly() {
		assertThat(this.store.set(node("n2"), "k", 0, VALUE)).isTrue();

		assertThat(memcached.node("n2").get("k")).isEqualTo(VALUE);
		assertThat(memcached.node("n1").get("k")).isNull();
	}

	@Test
	void set_LargeValue_ShouldNotBeCompressed() {
		byte[] zeros = new byte[100_000];
		this.store.set(node("n1"), "k", 0, zeros);

		assertThat(memcached.node("n1").get("k")).hasSize(100_000);
	}

	@Test
	void cas_AfterAnotherWrite_ShouldReportConflict() {
		this.store.set(node("n1"), "k", 0, VALUE);
		StoredValue read = this.store.get(node("n1"), "k");
		this.store.set(node("n1"), "k", 0, "other".getBytes(StandardCharsets.UTF_8));

		assertThat(this.store.cas(node("n1"), "k", read.cas(), 0, VALUE).result()).isEqualTo(WriteResult.CONFLICT);
	}

	@Test
	void cas_OnDeletedItem_ShouldReportNotFound() {
		this.store.set(node("n1"), "k", 0, VALUE);
		StoredValue read = this.store.get(node("n1"), "k");
		this.store.delete(node("n1"), "k");

		assertThat(this.store.cas(node("n1"), "k", read.cas(), 0, VALUE).result()).isEqualTo(WriteResult.NOT_FOUND);
	}

	@Test
	void delete_MissingKey_ShouldReportNotFound() {
		assertThat(this.store.delete(node("n1"), "missing")).isEqualTo(WriteResult.NOT_FOUND);
	}

	@Test
	void get_DeadNode_ShouldReadAsMissingWithoutThrowing() {
		memcached.node("n1").kill();

		assertThat(this.store.get(node("n1"), "k")).isNull();
		assertThat(this.store.set(node("n1"), "k", 0, VALUE)).isFalse();
	}

	@Test
	@Timeout(10)
	void get_HungNode_ShouldGiveUpInsteadOfWaitingForever() {
		memcached.node("n1").hang();

		assertThat(this.store.get(node("n1"), "k")).isNull();
		assertThat(this.store.set(node("n1"), "k", 0, VALUE)).isFalse();
	}

	@Test
	void readAll_AbsentKeys_ShouldReturnEmptyMap() {
		this.store.set(node("n1"), "k1", 0, VALUE);

		Map<String, StoredValue> found = this.store.readAll(node("n1"), List.of("k1", "k2"));

		assertThat(found).containsOnlyKeys("k1");
	}

	@Test
	void readAll_SeveralKeys_ShouldAnswerEachWithTheTokenOfItsValue() {
		this.store.set(node("n1"), "k1", 0, VALUE);
		this.store.set(node("n1"), "k3", 0, "third".getBytes(StandardCharsets.UTF_8));

		Map<String, StoredValue> found = this.store.readAll(node("n1"), List.of("k1", "k2", "k3"));

		assertThat(found).containsOnlyKeys("k1", "k3");
		assertThat(found.get("k3").bytes()).asString(StandardCharsets.UTF_8).isEqualTo("third");
		assertThat(this.store.cas(node("n1"), "k1", found.get("k1").cas(), 0, VALUE).result()).isEqualTo(WriteResult.OK);
		assertThat(this.store.cas(node("n1"), "k3", found.get("k3").cas(), 0, VALUE).result()).isEqualTo(WriteResult.OK);
	}

	@Test
	void readAll_DeadNode_ShouldReturnNull() {
		memcached.node("n1").kill();

		assertThat(this.store.readAll(node("n1"), List.of("k1", "k2"))).isNull();
		assertThat(this.store.getAll(node("n1"), List.of("k1", "k2"))).isEmpty();
	}

	@Test
	void readAll_HungNode_ShouldReturnNullWithinOneTimeoutForAllKeys() {
		memcached.node("n1").hang();
		long start = System.nanoTime();

		Map<String, StoredValue> found = this.store.readAll(node("n1"), List.of("k1", "k2"));

		assertThat(found).isNull();
		assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(TIMEOUT.plus(MARGIN));
	}

	@Test
	void deadNode_ShouldNotDisturbTheOtherNode() {
		memcached.node("n1").kill();
		this.store.get(node("n1"), "k");

		assertThat(this.store.set(node("n2"), "k", 0, VALUE)).isTrue();
		assertThat(this.store.get(node("n2"), "k").bytes()).isEqualTo(VALUE);
	}

	@Test
	void failures_OfOneNode_ShouldBeLoggedAtWarnOnce(CapturedOutput output) {
		memcached.node("n1").kill();
		for (int i = 0; i < 4; i++) {
			this.store.get(node("n1"), "k" + i);
		}

		assertThat(output.getOut().lines().filter((line) -> line.contains("WARN") && line.contains("node n1:")))
			.singleElement(as(InstanceOfAssertFactories.STRING))
			.contains("is down");
	}

	@Test
	void get_InvalidKey_ShouldReadAsMissingAndKeepTheNodeUp() {
		assertThat(this.store.get(node("n1"), "key with spaces")).isNull();

		assertThat(this.store.availability().isAvailable(node("n1"))).isTrue();
	}

	private MemcachedNode node(String id) {
		return this.ring.node(id);
	}

}
