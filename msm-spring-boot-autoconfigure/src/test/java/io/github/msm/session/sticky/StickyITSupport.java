package io.github.msm.session.sticky;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.github.msm.session.MemcachedSession;
import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.SessionMetrics;
import io.github.msm.session.SessionSavePolicy;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.serializer.ClassAllowList;
import io.github.msm.session.serializer.KryoSessionSerializer;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServer;
import io.github.msm.test.MemcachedServers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;

import org.springframework.context.ApplicationEvent;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sticky "servers" (each its own connections, route, clock and events) over the test
 * class's real memcached nodes, and requests played as Spring Session's filter plays
 * them: {@code findById}, {@code setLastAccessedTime(now)}, the work, {@code save} twice.
 */
abstract class StickyITSupport {

	private final List<StickySessionRepository> servers = new ArrayList<>();

	final List<ApplicationEvent> events = new CopyOnWriteArrayList<>();

	final SimpleMeterRegistry registry = new SimpleMeterRegistry();

	abstract MemcachedServers servers();

	@AfterEach
	void shutdownServers() {
		for (StickySessionRepository server : this.servers) {
			server.shutdown();
			server.memcachedRepository().shutdown();
		}
	}

	StickySessionRepository server(String route) {
		return server(route, Clock.systemUTC());
	}

	StickySessionRepository server(String route, Clock clock) {
		return server(route, clock, servers().nodesProperty());
	}

	/** A server over some of the nodes only ({@code msm.nodes}), e.g. a one-node setup. */
	StickySessionRepository server(String route, Clock clock, String nodes) {
		return server(route, clock, nodes, SessionSavePolicy.DEFAULT);
	}

	/** A server with other flush mode, save mode or attribute filter. */
	StickySessionRepository server(String route, SessionSavePolicy policy) {
		return server(route, Clock.systemUTC(), servers().nodesProperty(), policy);
	}

	private StickySessionRepository server(String route, Clock clock, String nodes, SessionSavePolicy policy) {
		NodeRing ring = NodeRing.parse(List.of(nodes));
		MemcachedStore store = new MemcachedStore(ring.nodes(), true, Duration.ofMillis(1000));
		MemcachedSessionRepository memcached = new MemcachedSessionRepository(store, ring,
				new KryoSessionSerializer(ClassAllowList.of(List.of("io.github.msm")), getClass().getClassLoader()));
		memcached.setMetrics(new SessionMetrics(this.registry));
		memcached.setSavePolicy(policy);
		memcached.setClock(clock);
		memcached.setJvmRoute(route);
		StickySessionRepository server = new StickySessionRepository(memcached);
		server.setClock(clock);
		server.setMeterRegistry(new SimpleMeterRegistry());
		server.setApplicationEventPublisher((event) -> this.events.add((ApplicationEvent) event));
		this.servers.add(server);
		return server;
	}

	/** A request that creates a session with one attribute. */
	static MemcachedSession create(StickySessionRepository server, String name, Object value) {
		MemcachedSession session = server.createSession();
		session.setAttribute(name, value);
		server.save(session);
		server.save(session);
		return session;
	}

	/** A request that reads an attribute and changes nothing; answers what it read. */
	static Object read(StickySessionRepository server, String id, String name) {
		MemcachedSession session = server.findById(id);
		assertThat(session).as("session %s", id).isNotNull();
		session.setLastAccessedTime(Instant.now());
		Object value = session.getAttribute(name);
		server.save(session);
		server.save(session);
		return value;
	}

	/** A request that sets an attribute; answers the session's id after the request. */
	static String write(StickySessionRepository server, String id, String name, Object value) {
		MemcachedSession session = server.findById(id);
		assertThat(session).as("session %s", id).isNotNull();
		session.setLastAccessedTime(Instant.now());
		session.setAttribute(name, value);
		server.save(session);
		server.save(session);
		return session.getId();
	}

	long ops(String stat) {
		return servers().stat(stat);
	}

	/** Gets, storage commands (set, add, cas), touches and deletes on every node. */
	long allOps() {
		return ops("cmd_get") + ops("cmd_set") + ops("cmd_touch") + ops("delete_hits") + ops("delete_misses");
	}

	MemcachedServer primaryOf(String id) {
		return servers().node(id.substring(33, id.indexOf('.')));
	}

}
