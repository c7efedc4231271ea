package io.github.msm.session;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.github.msm.session.node.NodeRing;
import io.github.msm.session.serializer.ClassAllowList;
import io.github.msm.session.serializer.KryoSessionSerializer;
import io.github.msm.session.serializer.SessionSerializer;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * A repository over the test class's real memcached servers, built as the
 * auto-configuration builds it, fresh for each test; more of them (other "servers" with
 * their own connections, clocks and serializers) on demand.
 */
abstract class RepositoryITSupport {

	final SimpleMeterRegistry registry = new SimpleMeterRegistry();

	MemcachedSessionRepository repository;

	private final List<MemcachedSessionRepository> repositories = new ArrayList<>();

	private final java.util.Map<MemcachedSessionRepository, MemcachedStore> stores = new java.util.HashMap<>();

	/** The servers of the test class, a static {@code @RegisterExtension} field. */
	abstract MemcachedServers servers();

	@BeforeEach
	void createRepository() {
		this.repository = newRepository(Clock.systemUTC(), kryo(), this.registry);
	}

	@AfterEach
	void closeRepositories() {
		this.repositories.forEach(MemcachedSessionRepository::shutdown);
	}

	/** Another server's repository over the same nodes, closed after the test. */
	MemcachedSessionRepository newRepository(Clock clock, SessionSerializer serializer, SimpleMeterRegistry registry) {
		NodeRing ring = NodeRing.parse(List.of(servers().nodesProperty()));
		MemcachedStore store = new MemcachedStore(ring.nodes(), true, Duration.ofMillis(1000));
		MemcachedSessionRepository repository = new MemcachedSessionRepository(store, ring, serializer);
		repository.setMetrics(new SessionMetrics(registry));
		repository.setClock(clock);
		this.repositories.add(repository);
		this.stores.put(repository, store);
		return repository;
	}

	/** Has a repository the test built itself closed after the test. */
	void closeLater(MemcachedSessionRepository repository) {
		this.repositories.add(repository);
	}

	/** Makes {@link #storeOf} know a repository the test built (and closes) itself. */
	void registerStore(MemcachedSessionRepository repository, MemcachedStore store) {
		this.stores.put(repository, store);
	}

	/** The store a repository of this test uses. */
	MemcachedStore storeOf(MemcachedSessionRepository repository) {
		return this.stores.get(repository);
	}

	static SessionSerializer kryo() {
		return new KryoSessionSerializer(ClassAllowList.of(List.of("io.github.msm")),
				RepositoryITSupport.class.getClassLoader());
	}

	/** A new session whose primary is the given node. */
	static MemcachedSession sessionOn(MemcachedSessionRepository repository, String nodeId) {
		MemcachedSession session;
		do {
			session = repository.createSession();
		}
		while (!nodeId.equals(repository.nodeIdOf(session.getId())));
		return session;
	}

	/** A stored session on the given node, with a "user" attribute. */
	MemcachedSession storedOn(String nodeId) {
		MemcachedSession session = sessionOn(this.repository, nodeId);
		session.setAttribute("user", "alice");
		session.setLastAccessedTime(java.time.Instant.now());
		this.repository.save(session);
		return session;
	}

	/** An id on the node that no session has: looking it up tells the store the node is down. */
	static String sessionIdOn(String nodeId) {
		return "0123456789abcdef0123456789abcdef-" + nodeId;
	}

	/** The 32 hex characters a session keeps when it moves to another node. */
	static String base(MemcachedSession session) {
		return session.getId().substring(0, 32);
	}

	/** Changes not written because the session was deleted or renamed meanwhile, any reason. */
	static double discarded(SimpleMeterRegistry registry) {
		return registry.find("msm.session.write.discarded").counters().stream().mapToDouble((c) -> c.count()).sum();
	}

	/** What memcached holds under a data key, decoded; {@code null} when absent or a tombstone. */
	static SessionCodec.Data readable(byte[] bytes) {
		if (bytes == null || SessionCodec.isTombstone(bytes)) {
			return null;
		}
		return SessionCodec.decodeData(bytes);
	}

}
