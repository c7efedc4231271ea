package io.github.msm.session;

import java.time.Duration;
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
 * auto-configuration builds it, fresh for each test.
 */
abstract class RepositoryITSupport {

	final SimpleMeterRegistry registry = new SimpleMeterRegistry();

	MemcachedSessionRepository repository;

	/** The servers of the test class, a static {@code @RegisterExtension} field. */
	abstract MemcachedServers servers();

	@BeforeEach
	void createRepository() {
		NodeRing ring = NodeRing.parse(List.of(servers().nodesProperty()));
		MemcachedStore store = new MemcachedStore(ring.nodes(), true, Duration.ofMillis(1000));
		this.repository = new MemcachedSessionRepository(store, ring, kryo());
		this.repository.setMetrics(new SessionMetrics(this.registry));
	}

	@AfterEach
	void closeRepository() {
		this.repository.shutdown();
	}

	static SessionSerializer kryo() {
		return new KryoSessionSerializer(ClassAllowList.of(List.of("io.github.msm")),
				RepositoryITSupport.class.getClassLoader());
	}

}
