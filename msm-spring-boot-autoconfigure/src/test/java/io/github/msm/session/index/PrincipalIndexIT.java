package io.github.msm.session.index;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.node.NodeSelector;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The principal index item over real memcached: concurrent updates from two servers, any
 * principal name, the size cap and bytes that are not an index.
 */
class PrincipalIndexIT {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private final List<MemcachedStore> stores = new ArrayList<>();

	private final AtomicInteger failures = new AtomicInteger();

	@AfterEach
	void closeStores() {
		this.stores.forEach(MemcachedStore::close);
	}

	@Test
	void add_FortyConcurrentLoginsOnTwoServers_ShouldListEverySession() throws Exception {
		List<PrincipalIndex> servers = List.of(index(PrincipalIndex.DEFAULT_MAX_SESSIONS),
				index(PrincipalIndex.DEFAULT_MAX_SESSIONS));
		ExecutorService pool = Executors.newFixedThreadPool(40);
		CountDownLatch start = new CountDownLatch(1);
		List<Future<?>> logins = new ArrayList<>();
		for (int i = 0; i < 40; i++) {
			String id = String.format("%032x-n1", i);
			PrincipalIndex server = servers.get(i % 2);
			logins.add(pool.submit(() -> {
				start.await();
				server.add("alice", id, null);
				return null;
			}));
		}

		start.countDown();
		for (Future<?> login : logins) {
			login.get();
		}
		pool.shutdown();

		assertThat(servers.get(0).sessionIds("alice")).hasSize(40);
		assertThat(this.failures).hasValue(0);
	}

	@Test
	void key_OfHostilePrincipalName_ShouldBeAValidMemcachedKey() {
		PrincipalIndex index = index(PrincipalIndex.DEFAULT_MAX_SESSIONS);
		String principal = "a b\r\nflush_all\r\n" + "é".repeat(300);

		index.add(principal, "0123456789abcdef0123456789abcdef-n1", null);

		assertThat(index.key(principal)).hasSizeLessThanOrEqualTo(250).matches("[!-~]+");
		assertThat(index.sessionIds(principal)).containsExactly("0123456789abcdef0123456789abcdef-n1");
	}

	@Test
	void add_WithReplacedId_ShouldSwapTheIds() {
		PrincipalIndex index = index(PrincipalIndex.DEFAULT_MAX_SESSIONS);
		index.add("alice", "old-n1", null);
		index.add("alice", "other-n2", null);

		index.add("alice", "new-n1", "old-n1");

		assertThat(index.sessionIds("alice")).containsExactly("other-n2", "new-n1");
	}

	@Test
	void add_BeyondTheCap_ShouldDropTheOldest() {
		PrincipalIndex index = index(3);
		for (int i = 1; i <= 4; i++) {
			index.add("alice", "s" + i + "-n1", null);
		}

		assertThat(index.sessionIds("alice")).containsExactly("s2-n1", "s3-n1", "s4-n1");
	}

	@Test
	void sessionIds_OfBytesThatAreNotAnIndex_ShouldBeEmpty() {
		PrincipalIndex index = index(PrincipalIndex.DEFAULT_MAX_SESSIONS);
		MemcachedNode node = index.nodeFor("alice");
		memcached.node(node.id()).set(index.key("alice"), "s1-n1\ns2-n1".getBytes(StandardCharsets.US_ASCII), 0);

		assertThat(index.sessionIds("alice")).isEmpty();
	}

	@Test
	void prune_OfLastSession_ShouldLeaveAnEmptyList() {
		PrincipalIndex index = index(PrincipalIndex.DEFAULT_MAX_SESSIONS);
		index.add("alice", "s1-n1", null);

		index.prune("alice", List.of("s1-n1"), java.util.Map.of());

		assertThat(index.sessionIds("alice")).isEmpty();
	}

	private PrincipalIndex index(int maxSessions) {
		NodeRing ring = NodeRing.parse(List.of(memcached.nodesProperty()));
		MemcachedStore store = new MemcachedStore(ring.nodes(), true, Duration.ofMillis(1000));
		this.stores.add(store);
		return new PrincipalIndex(store, new NodeSelector(ring, store.availability()), "", Duration.ofSeconds(3),
				this.failures::incrementAndGet, maxSessions);
	}

}
