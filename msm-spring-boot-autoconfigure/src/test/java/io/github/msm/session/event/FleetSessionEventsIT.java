package io.github.msm.session.event;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.github.msm.session.MemcachedSession;
import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.SessionExpiryProbe;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.serializer.ClassAllowList;
import io.github.msm.session.serializer.KryoSessionSerializer;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServers;
import io.github.msm.test.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.context.ApplicationEvent;
import org.springframework.session.events.AbstractSessionEvent;
import org.springframework.session.events.SessionCreatedEvent;
import org.springframework.session.events.SessionDeletedEvent;
import org.springframework.session.events.SessionExpiredEvent;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Session events of non-sticky mode with two servers (two repositories with their own
 * connections over the same real memcached nodes) that share a controllable clock: each
 * session served by both, round robin; every expiry published once across the fleet.
 */
class FleetSessionEventsIT {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private final MutableClock clock = new MutableClock(Duration.ZERO);

	private final List<ApplicationEvent> events = new CopyOnWriteArrayList<>();

	private final List<Server> servers = new ArrayList<>();

	@AfterEach
	void shutdownServers() {
		this.servers.forEach(Server::stop);
	}

	@Test
	void events_HundredSessionsOverTwoServers_ShouldPublishEachCreationDeletionAndExpiryOnce() {
		Server a = server();
		Server b = server();
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < 100; i++) {
			Server creator = (i % 2 == 0) ? a : b;
			Server other = (i % 2 == 0) ? b : a;
			MemcachedSession session = creator.repository.createSession();
			session.setAttribute("n", i);
			creator.repository.save(session);
			assertThat(other.repository.findById(session.getId())).isNotNull();
			ids.add(session.getId());
		}
		for (int i = 0; i < 50; i++) {
			((i % 2 == 0) ? b : a).repository.deleteById(ids.get(i));
		}

		checkEveryMinute(Duration.ofMinutes(40), a, b);

		assertThat(ids(SessionCreatedEvent.class)).hasSize(100).containsExactlyInAnyOrderElementsOf(ids);
		assertThat(ids(SessionDeletedEvent.class)).hasSize(50).containsExactlyInAnyOrderElementsOf(ids.subList(0, 50));
		assertThat(ids(SessionExpiredEvent.class)).hasSize(50)
			.containsExactlyInAnyOrderElementsOf(ids.subList(50, 100));
		assertThat(a.watch.publishedCount() + b.watch.publishedCount()).isEqualTo(50);
		assertThat(a.watch.missedCount() + b.watch.missedCount()).isZero();
	}

	@Test
	void events_FortyWritersOnTwoServersAndConcurrentChecks_ShouldPublishEachEventOnce() throws Exception {
		Server a = server();
		Server b = server();
		List<String> ids = new CopyOnWriteArrayList<>();
		List<String> deleted = new CopyOnWriteArrayList<>();
		ExecutorService writers = Executors.newFixedThreadPool(40);
		List<Future<?>> done = new ArrayList<>();
		for (int w = 0; w < 40; w++) {
			Server creator = (w % 2 == 0) ? a : b;
			Server other = (w % 2 == 0) ? b : a;
			int writer = w;
			done.add(writers.submit(() -> {
				for (int i = 0; i < 10; i++) {
					MemcachedSession session = creator.repository.createSession();
					session.setAttribute("n", writer * 100 + i);
					creator.repository.save(session);
					MemcachedSession read = other.repository.findById(session.getId());
					assertThat(read).as("session %s, saved by the other server", session.getId()).isNotNull();
					read.setAttribute("seen", i);
					other.repository.save(read);
					ids.add(session.getId());
					if (i % 2 == 0) {
						creator.repository.deleteById(session.getId());
						deleted.add(session.getId());
					}
				}
				return null;
			}));
		}
		for (Future<?> future : done) {
			future.get();
		}
		writers.shutdown();

		for (int minute = 0; minute < 40; minute++) {
			this.clock.advance(Duration.ofMinutes(1));
			CompletableFuture.allOf(CompletableFuture.runAsync(a.watch::check),
					CompletableFuture.runAsync(b.watch::check)).get();
		}

		List<String> expired = new ArrayList<>(ids);
		expired.removeAll(deleted);
		assertThat(ids(SessionCreatedEvent.class)).hasSize(400).containsExactlyInAnyOrderElementsOf(ids);
		assertThat(ids(SessionDeletedEvent.class)).hasSize(200).containsExactlyInAnyOrderElementsOf(deleted);
		assertThat(ids(SessionExpiredEvent.class)).hasSize(200).containsExactlyInAnyOrderElementsOf(expired);
	}

	@Test
	void check_HundredSessionsServedByTwoServers_ShouldCostAFewReadsPerSessionAndAtMostOneClaimPerServer() {
		Server a = server();
		Server b = server();
		for (int i = 0; i < 100; i++) {
			MemcachedSession session = a.repository.createSession();
			a.repository.save(session);
			b.repository.findById(session.getId());
			if (i % 2 == 0) {
				b.repository.deleteById(session.getId());
			}
		}
		a.repository.awaitBackupWrites();
		b.repository.awaitBackupWrites();
		memcached.resetStats();

		checkEveryMinute(Duration.ofMinutes(40), a, b);

		long gets = memcached.stat("cmd_get");
		long claims = memcached.stat("cmd_set");
		System.out.println("expiry checks of 2 x 100 watched sessions (50 deleted, 50 expired): " + gets
				+ " keys read, " + claims + " claims");
		assertThat(ids(SessionExpiredEvent.class)).hasSize(50);
		assertThat(claims).isBetween(50L, 100L);
		// per server and session at most four reads of two keys (due, re-checked at the
		// expiry with slack, and the ids a move would have given)
		assertThat(gets).isLessThanOrEqualTo(2 * 100 * 4 * 2);
	}

	@Test
	void expiredEvent_ShouldCarryTheSessionsAttributes() {
		Server a = server();
		MemcachedSession session = a.repository.createSession();
		session.setAttribute("user", "alice");
		a.repository.save(session);

		checkEveryMinute(Duration.ofMinutes(40), a);

		SessionExpiredEvent expired = (SessionExpiredEvent) this.events.stream()
			.filter(SessionExpiredEvent.class::isInstance)
			.findFirst()
			.orElseThrow();
		assertThat(expired.<MemcachedSession>getSession().<String>getAttribute("user")).isEqualTo("alice");
	}

	@Test
	void expiredEvent_SessionAccessedLaterOnAnotherServer_ShouldComeAtTheLaterExpiry() {
		Server a = server();
		Server b = server();
		MemcachedSession session = a.repository.createSession();
		a.repository.save(session);
		this.clock.advance(Duration.ofMinutes(20));
		MemcachedSession read = b.repository.findById(session.getId());
		read.setLastAccessedTime(this.clock.instant());
		read.setAttribute("seen", "b");
		b.repository.save(read);
		b.repository.awaitBackupWrites();

		checkEveryMinute(Duration.ofMinutes(25), a);
		assertThat(ids(SessionExpiredEvent.class)).isEmpty();
		checkEveryMinute(Duration.ofMinutes(15), a);

		assertThat(ids(SessionExpiredEvent.class)).containsExactly(session.getId());
	}

	@Test
	void expiredEvent_ServerStoppedBeforeTheExpiry_ShouldBePublishedByTheOther() {
		Server a = server();
		Server b = server();
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < 20; i++) {
			MemcachedSession session = a.repository.createSession();
			a.repository.save(session);
			b.repository.findById(session.getId());
			ids.add(session.getId());
		}
		a.stop();

		checkEveryMinute(Duration.ofMinutes(40), b);

		assertThat(ids(SessionExpiredEvent.class)).containsExactlyInAnyOrderElementsOf(ids);
		assertThat(b.watch.publishedCount()).isEqualTo(20);
	}

	@Test
	void expiredEvent_SessionMovedByFailover_ShouldNotReportTheOldId() {
		Server a = server();
		Server b = server();
		MemcachedSession session = sessionOn(a.repository, "n1");
		a.repository.save(session);
		assertThat(b.repository.findById(session.getId())).isNotNull();
		a.repository.awaitBackupWrites();
		memcached.node("n1").kill();
		this.clock.advance(Duration.ofMinutes(10));

		MemcachedSession moved = b.repository.findById(session.getId());
		assertThat(moved).isNotNull();
		assertThat(moved.getId()).isNotEqualTo(session.getId()).endsWith("-n2");
		moved.setLastAccessedTime(this.clock.instant());
		b.repository.save(moved);
		b.repository.awaitBackupWrites();
		checkEveryMinute(Duration.ofMinutes(25), a, b);
		assertThat(ids(SessionExpiredEvent.class)).isEmpty();
		checkEveryMinute(Duration.ofMinutes(15), a, b);

		assertThat(ids(SessionExpiredEvent.class)).containsExactly(moved.getId());
	}

	@Test
	void deleteById_SessionReadOnTheOtherServer_ShouldPublishOneDeletedAndNoExpiredEvent() {
		Server a = server();
		Server b = server();
		MemcachedSession session = a.repository.createSession();
		a.repository.save(session);
		b.repository.findById(session.getId());

		a.repository.deleteById(session.getId());
		checkEveryMinute(Duration.ofMinutes(40), a, b);

		assertThat(ids(SessionDeletedEvent.class)).containsExactly(session.getId());
		assertThat(ids(SessionExpiredEvent.class)).isEmpty();
	}

	/** Moves the shared clock on a minute at a time, each server checking as its thread would. */
	private void checkEveryMinute(Duration total, Server... servers) {
		for (long minute = 0; minute < total.toMinutes(); minute++) {
			this.clock.advance(Duration.ofMinutes(1));
			for (Server server : servers) {
				server.watch.check();
			}
		}
	}

	private List<String> ids(Class<? extends AbstractSessionEvent> type) {
		return this.events.stream()
			.filter(type::isInstance)
			.map((event) -> ((AbstractSessionEvent) event).getSessionId())
			.toList();
	}

	private Server server() {
		NodeRing ring = NodeRing.parse(List.of(memcached.nodesProperty()));
		// a generous timeout: on a loaded machine a 1 s timeout marks a node down, and the
		// store then (rightly) moves sessions or keeps them in memory, which is not what
		// this test is about
		MemcachedStore store = new MemcachedStore(ring.nodes(), true, Duration.ofSeconds(5));
		MemcachedSessionRepository repository = new MemcachedSessionRepository(store, ring,
				new KryoSessionSerializer(ClassAllowList.of(List.of("io.github.msm")), getClass().getClassLoader()));
		repository.setClock(this.clock);
		ExpiryWatch watch = new ExpiryWatch(new SessionExpiryProbe(repository), 100_000, Duration.ofSeconds(10),
				repository, (event) -> this.events.add((ApplicationEvent) event));
		repository.setLifecycleListener(
				new SessionEvents(repository, (event) -> this.events.add((ApplicationEvent) event), watch));
		Server server = new Server(repository, watch);
		this.servers.add(server);
		return server;
	}

	private static MemcachedSession sessionOn(MemcachedSessionRepository repository, String nodeId) {
		MemcachedSession session;
		do {
			session = repository.createSession();
		}
		while (!nodeId.equals(repository.nodeIdOf(session.getId())));
		return session;
	}

	private record Server(MemcachedSessionRepository repository, ExpiryWatch watch) {

		void stop() {
			this.watch.close();
			this.repository.shutdown();
		}

	}

}
