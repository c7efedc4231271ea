package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.storage.ConnectionSettings;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServers;
import io.github.msm.test.Twemproxy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The repository through twemproxy (nutcracker) in front of two memcached servers: one
 * plain {@code host:port} node, the text protocol, the proxy spreading keys over the
 * servers. Twemproxy passes {@code gets} and {@code cas} through to the server that holds
 * the key, so compare-and-set writes, and with them concurrent changes of one session,
 * work as with memcached itself; {@code stats} it does not support, so the store probes
 * it with {@code version}.
 */
class TwemproxyIT {

	@RegisterExtension
	@Order(1)
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@RegisterExtension
	@Order(2)
	static final Twemproxy twemproxy = Twemproxy.over(memcached);

	private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

	private MemcachedStore store;

	private MemcachedSessionRepository repository;

	@BeforeEach
	void createRepository() {
		NodeRing ring = NodeRing.parse(List.of(twemproxy.address()));
		this.store = new MemcachedStore(ring.nodes(),
				ConnectionSettings.of(false, Duration.ofMillis(1000)).throughProxy());
		this.repository = new MemcachedSessionRepository(this.store, ring, RepositoryITSupport.kryo());
		this.repository.setMetrics(new SessionMetrics(this.registry));
	}

	@AfterEach
	void closeRepository() {
		this.repository.shutdown();
	}

	@Test
	void save_ThroughTwemproxy_ShouldStoreTheSessionOnAServerBehindIt() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("user", "alice");
		this.repository.save(session);

		assertThat(session.getId()).matches("[0-9a-f]{32}");
		assertThat(memcached.node(0).get(session.getId()) != null || memcached.node(1).get(session.getId()) != null)
			.as("the data item on one of the servers").isTrue();
		assertThat(this.repository.findById(session.getId()).<String>getAttribute("user")).isEqualTo("alice");
	}

	@Test
	void save_ChangedAttributeThroughTwemproxy_ShouldBeReadBack() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("counter", 1);
		this.repository.save(session);

		MemcachedSession read = this.repository.findById(session.getId());
		read.setAttribute("counter", 2);
		read.removeAttribute("missing");
		this.repository.save(read);

		assertThat(this.repository.findById(session.getId()).<Integer>getAttribute("counter")).isEqualTo(2);
	}

	@Test
	void deleteById_ThroughTwemproxy_ShouldMakeTheSessionUnknown() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("user", "alice");
		this.repository.save(session);

		this.repository.deleteById(session.getId());

		assertThat(this.repository.findById(session.getId())).isNull();
	}

	@Test
	void changeSessionId_ThroughTwemproxy_ShouldKeepTheDataUnderTheNewId() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("user", "alice");
		this.repository.save(session);
		String oldId = session.getId();

		MemcachedSession read = this.repository.findById(oldId);
		read.changeSessionId();
		this.repository.save(read);

		assertThat(this.repository.findById(oldId)).isNull();
		assertThat(this.repository.findById(read.getId()).<String>getAttribute("user")).isEqualTo("alice");
	}

	@Test
	void save_TwentyConcurrentWritersThroughTwemproxy_ShouldKeepEveryChange() throws Exception {
		MemcachedSession session = this.repository.createSession();
		this.repository.save(session);
		List<MemcachedSessionRepository> servers = new ArrayList<>();
		for (int i = 0; i < 4; i++) {
			servers.add(otherServer());
		}
		int writers = 20;
		CountDownLatch start = new CountDownLatch(1);
		ExecutorService pool = Executors.newFixedThreadPool(writers);
		try {
			List<Future<?>> done = new ArrayList<>();
			for (int i = 0; i < writers; i++) {
				int writer = i;
				MemcachedSessionRepository server = servers.get(i % servers.size());
				done.add(pool.submit(() -> {
					start.await();
					MemcachedSession read = server.findById(session.getId());
					read.setAttribute("writer" + writer, writer);
					server.save(read);
					return null;
				}));
			}
			start.countDown();
			for (Future<?> future : done) {
				future.get();
			}
		}
		finally {
			pool.shutdownNow();
			servers.forEach(MemcachedSessionRepository::shutdown);
		}

		MemcachedSession stored = this.repository.findById(session.getId());
		for (int i = 0; i < writers; i++) {
			assertThat(stored.<Integer>getAttribute("writer" + i)).as("writer" + i).isEqualTo(i);
		}
		assertThat(this.registry.find("msm.session.write.failures").counters()).allSatisfy(
				(counter) -> assertThat(counter.count()).isZero());
	}

	@Test
	void probe_ThroughTwemproxy_ShouldKeepTheProxyUp() {
		MemcachedNode proxy = this.store.availability().available().get(0);
		Instant until = Instant.now().plus(Duration.ofSeconds(6));

		// the probe asks an up node every 4 s: twemproxy would close the connection on stats
		await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
			assertThat(this.store.availability().status(proxy).lastError()).isNull();
			assertThat(Instant.now()).isAfter(until);
		});
		assertThat(this.store.availability().isAvailable(proxy)).isTrue();
		assertThat(this.store.serverItemSizeMax()).isEmpty();
	}

	private MemcachedSessionRepository otherServer() {
		NodeRing ring = NodeRing.parse(List.of(twemproxy.address()));
		MemcachedStore store = new MemcachedStore(ring.nodes(),
				ConnectionSettings.of(false, Duration.ofMillis(1000)).throughProxy());
		return new MemcachedSessionRepository(store, ring, RepositoryITSupport.kryo());
	}

}
