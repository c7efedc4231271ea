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

/**
 * Builds repositories over real memcached servers, as the auto-configuration does.
 */
final class Repositories {

	private Repositories() {
	}

	static SessionSerializer kryo() {
		return new KryoSessionSerializer(ClassAllowList.of(List.of("io.github.msm")),
				Repositories.class.getClassLoader());
	}

	static MemcachedSessionRepository over(MemcachedServers servers, SimpleMeterRegistry registry) {
		return over(servers.nodesProperty(), registry);
	}

	static MemcachedSessionRepository over(String nodes, SimpleMeterRegistry registry) {
		NodeRing ring = NodeRing.parse(List.of(nodes));
		MemcachedStore store = new MemcachedStore(ring.nodes(), true, Duration.ofMillis(1000));
		MemcachedSessionRepository repository = new MemcachedSessionRepository(store, ring, kryo());
		repository.setMetrics(new SessionMetrics(registry));
		return repository;
	}

}
