package io.github.msm.session.sticky;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.github.msm.session.IndexedMemcachedSessionRepository;
import io.github.msm.session.MemcachedSession;
import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.SessionMetrics;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.serializer.ClassAllowList;
import io.github.msm.session.serializer.KryoSessionSerializer;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServers;
import io.github.msm.test.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.session.FindByIndexNameSessionRepository;
import org.springframework.session.events.SessionExpiredEvent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Adversarial review of sticky mode: concurrent requests of one session, takeover races,
 * stale copies, async writes, eviction, hostile ids, outages.
 */
class StickyAttackIT extends StickyITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private final List<MemcachedSessionRepository> plains = new ArrayList<>();

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@AfterEach
	void closePlains() {
		this.plains.forEach(MemcachedSessionRepository::shutdown);
	}

	/** A non-sticky repository: reads what memcached holds, without takeover. */
	MemcachedSessionRepository plain() {
		NodeRing ring = NodeRing.parse(List.of(memcached.nodesProperty()));
		MemcachedStore store = new MemcachedStore(ring.nodes(), true, Duration.ofMillis(1000));
		MemcachedSessionRepository repository = new MemcachedSessionRepository(store, ring,
				new KryoSessionSerializer(ClassAllowList.of(List.of("io.github.msm")), getClass().getClassLoader()));
		repository.setMetrics(new SessionMetrics(this.registry));
		this.plains.add(repository);
		return repository;
	}

	private static void concurrently(int threads, java.util.function.IntConsumer work) throws Exception {
		ExecutorService pool = Executors.newFixedThreadPool(threads);
		CyclicBarrier start = new CyclicBarrier(threads);
		List<Future<?>> futures = new ArrayList<>();
		for (int i = 0; i < threads; i++) {
			int n = i;
			futures.add(pool.submit(() -> {
				start.await();
				work.accept(n);
				return null;
			}));
		}
		for (Future<?> future : futures) {
			future.get(60, TimeUnit.SECONDS);
		}
		pool.shutdown();
	}

	@Test
	void concurrentWriters_OfDifferentAttributes_ShouldLoseNone() throws Exception {
		StickySessionRepository a = server("a");
		String id = create(a, "user", "alice").getId();

		concurrently(50, (n) -> write(a, id, "attr" + n, n));
		a.flush();

		MemcachedSession local = a.findById(id);
		MemcachedSession stored = plain().findById(id);
		for (int n = 0; n < 50; n++) {
			assertThat((Integer) local.getAttribute("attr" + n)).as("local attr%d", n).isEqualTo(n);
			assertThat((Integer) stored.getAttribute("attr" + n)).as("stored attr%d", n).isEqualTo(n);
		}
	}

	@Test
	void concurrentWriters_OfDifferentAttributes_WithAsyncWrites_ShouldLoseNone() throws Exception {
		StickySessionRepository a = server("a");
		a.setAsyncWrites(true, 1000);
		String id = create(a, "user", "alice").getId();

		concurrently(50, (n) -> write(a, id, "attr" + n, n));
		a.flush();

		MemcachedSession local = a.findById(id);
		MemcachedSession stored = plain().findById(id);
		List<String> lostLocally = new ArrayList<>();
		List<String> lostStored = new ArrayList<>();
		for (int n = 0; n < 50; n++) {
			if (local.getAttribute("attr" + n) == null) {
				lostLocally.add("attr" + n);
			}
			if (stored.getAttribute("attr" + n) == null) {
				lostStored.add("attr" + n);
			}
		}
		assertThat(lostLocally).as("lost locally").isEmpty();
		assertThat(lostStored).as("lost in memcached").isEmpty();
	}

	@Test
	void asyncWrites_OfSessionsEvictedBeforeTheirWrite_ShouldReachMemcached() {
		StickySessionRepository a = server("a");
		a.setMaxSessions(5);
		a.setAsyncWrites(true, 1);
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < 40; i++) {
			ids.add(create(a, "count", 0).getId());
		}
		a.flush();
		for (String id : ids) {
			write(a, id, "count", 1);
		}
		a.flush();

		MemcachedSessionRepository plain = plain();
		List<String> lost = ids.stream()
			.filter((id) -> !Integer.valueOf(1).equals(plain.findById(id).getAttribute("count")))
			.toList();
		assertThat(lost).as("changes never written").isEmpty();
	}

	@Test
	void oldCookie_OnTheFormerServerAfterATakeover_ShouldNotServeTheStaleCopy() {
		MutableClock clock = new MutableClock(Duration.ZERO);
		StickySessionRepository a = server("a", clock);
		StickySessionRepository b = server("b");
		String idA = create(a, "count", 1).getId();
		String idB = write(b, idA, "count", 2);
		b.flush();
		assertThat(idB).endsWith(".b");

		// a request still carrying A's id (second tab, in-flight request) reaches A once
		// its copy is due for its check (at most one read per session per sweep interval)
		clock.advance(Duration.ofMinutes(1).plusSeconds(1));
		MemcachedSession stale = a.findById(idA);

		assertThat(stale == null || Integer.valueOf(2).equals(stale.getAttribute("count")))
			.as("A served count=" + ((stale != null) ? stale.getAttribute("count") : null) + " under the retired id")
			.isTrue();
	}

	@Test
	void formerServer_AfterATakeover_ShouldNotPublishExpiredForTheLiveSession() {
		MutableClock clock = new MutableClock(Duration.ZERO);
		StickySessionRepository a = server("a", clock);
		StickySessionRepository b = server("b");
		String idA = create(a, "user", "alice").getId();
		a.flush();
		String idB = write(b, idA, "x", 1);
		b.flush();

		clock.advance(Duration.ofMinutes(31));
		a.sweep();

		assertThat(this.events).filteredOn(SessionExpiredEvent.class::isInstance)
			.as("session %s lives on at B", idB)
			.isEmpty();
	}

	@Test
	void concurrentTakeovers_ByTwoServers_ShouldLeaveOneLiveSession() throws Exception {
		StickySessionRepository a = server("a");
		StickySessionRepository b = server("b");
		StickySessionRepository c = server("c");
		String idA = create(a, "user", "alice").getId();
		a.flush();

		CountDownLatch both = new CountDownLatch(2);
		List<String> ids = java.util.Collections.synchronizedList(new ArrayList<>());
		concurrently(2, (n) -> {
			StickySessionRepository server = (n == 0) ? b : c;
			MemcachedSession session = server.findById(idA);
			both.countDown();
			try {
				both.await();
			}
			catch (InterruptedException ex) {
				throw new IllegalStateException(ex);
			}
			if (session != null) {
				session.setLastAccessedTime(Instant.now());
				session.setAttribute("by", (n == 0) ? "b" : "c");
				server.save(session);
				server.save(session);
				ids.add(session.getId());
			}
		});
		b.flush();
		c.flush();

		MemcachedSessionRepository plain = plain();
		long live = ids.stream().filter((id) -> plain.findById(id) != null).count();
		assertThat(live).as("live copies of one session after two takeovers: %s", ids).isLessThanOrEqualTo(1);
	}

	@Test
	void hostileIds_ShouldFindNothingAndNotFail() {
		StickySessionRepository a = server("a");
		String id = create(a, "user", "alice").getId();
		String base = id.substring(0, id.indexOf('.'));
		List<String> hostile = List.of(base + "." + "r".repeat(33), base + ".a.a", base + ".", base + "..a",
				base + ".\u00e4", base + ".a\n", id.substring(0, 32) + "-n9.a", id.substring(0, 32) + ".a",
				id.substring(0, 32) + "-n1.a/../b", "", ".", ".a", base + ".a" + "\u0000", base.toUpperCase() + ".a");
		for (String h : hostile) {
			MemcachedSession found = a.findById(h);
			assertThat(found).as("'%s'", h).isNull();
		}
		assertThat(read(a, id, "user")).isEqualTo("alice");
	}

	@Test
	void changeSessionId_InStickyMode_ShouldRetireTheOldIdLocallyAndInMemcached() {
		StickySessionRepository a = server("a");
		String oldId = create(a, "user", "anon").getId();
		a.flush();

		MemcachedSession session = a.findById(oldId);
		session.setLastAccessedTime(Instant.now());
		String newId = session.changeSessionId();
		session.setAttribute("user", "alice");
		a.save(session);
		a.save(session);
		a.flush();

		assertThat(newId).endsWith(".a");
		assertThat(a.findById(oldId)).as("old id on A").isNull();
		assertThat(plain().findById(oldId)).as("old id in memcached").isNull();
		assertThat(read(a, newId, "user")).isEqualTo("alice");
		assertThat((String) plain().findById(newId).getAttribute("user")).isEqualTo("alice");
	}

	@Test
	void invalidate_ThenTheOldCookie_ShouldFindNothingAnywhere() {
		StickySessionRepository a = server("a");
		StickySessionRepository b = server("b");
		String id = create(a, "user", "alice").getId();
		a.flush();

		a.deleteById(id);

		assertThat(a.findById(id)).isNull();
		assertThat(b.findById(id)).isNull();
	}

	@Test
	void invalidate_WhileAQueuedWriteWaits_ShouldNotResurrectTheSession() {
		StickySessionRepository a = server("a");
		a.setAsyncWrites(true, 1000);
		String id = create(a, "user", "alice").getId();
		a.flush();
		write(a, id, "cart", "book");

		a.deleteById(id);
		a.flush();

		assertThat(a.findById(id)).isNull();
		assertThat(plain().findById(id)).isNull();
	}

	@Test
	void evictedSession_ModifiedAtItsNextRequest_ShouldKeepEveryChange() {
		StickySessionRepository a = server("a");
		a.setMaxSessions(2);
		String first = create(a, "user", "alice").getId();
		for (int i = 0; i < 10; i++) {
			create(a, "user", "other" + i);
		}
		a.sweep();

		write(a, first, "cart", "book");
		a.flush();

		MemcachedSession stored = plain().findById(first);
		assertThat((String) stored.getAttribute("user")).isEqualTo("alice");
		assertThat((String) stored.getAttribute("cart")).isEqualTo("book");
		assertThat(read(a, first, "cart")).isEqualTo("book");
	}

	@Test
	void changesMadeWhileEveryNodeWasDown_ShouldReachMemcachedOnceTheNodesAnswer() {
		StickySessionRepository a = server("a");
		String id = create(a, "count", 0).getId();
		a.flush();
		hangAllUntilSeen(a);
		String during = write(a, id, "count", 1);
		assertThat(read(a, during, "count")).isEqualTo(1);

		memcached.all().forEach((server) -> server.resume());

		await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
			String now = write(a, during, "count", 2);
			a.flush();
			MemcachedSession stored = plain().findById(now);
			assertThat(stored).isNotNull();
			assertThat((Integer) stored.getAttribute("count")).as("in memcached").isEqualTo(2);
		});
	}

	@Test
	void sessionModifiedAsEveryNodeHangs_ShouldStillBeServedDuringTheOutage() {
		StickySessionRepository a = server("a");
		String id = create(a, "count", 0).getId();
		a.flush();
		memcached.all().forEach((server) -> server.hang());

		// the first request after the hang: its write times out on both nodes
		String after = write(a, id, "count", 1);

		MemcachedSession next = a.findById(after);
		assertThat(next).as("the user's session during the outage").isNotNull();
		assertThat((Integer) next.getAttribute("count")).isEqualTo(1);
	}

	/** Hangs every node and waits until the server sees none up (new sessions get local ids). */
	private static void hangAllUntilSeen(StickySessionRepository server) {
		memcached.all().forEach((node) -> node.hang());
		await().atMost(Duration.ofSeconds(20)).until(() -> {
			server.memcachedRepository().findById("0123456789abcdef0123456789abcdef-n1");
			server.memcachedRepository().findById("0123456789abcdef0123456789abcdef-n2");
			return !server.memcachedRepository().createSession().getId().contains("-n");
		});
	}

	@Test
	void principalIndex_InStickyMode_ShouldListTheLoggedInSession() {
		NodeRing ring = NodeRing.parse(List.of(memcached.nodesProperty()));
		MemcachedStore store = new MemcachedStore(ring.nodes(), true, Duration.ofMillis(1000));
		IndexedMemcachedSessionRepository indexed = new IndexedMemcachedSessionRepository(store, ring,
				new KryoSessionSerializer(ClassAllowList.of(List.of("io.github.msm")), getClass().getClassLoader()));
		indexed.setJvmRoute("a");
		this.plains.add(indexed);
		StickySessionRepository a = new StickySessionRepository(indexed);
		String anonymous = create(a, "cart", "book").getId();

		// a login: new id, principal name set
		MemcachedSession session = a.findById(anonymous);
		session.setLastAccessedTime(Instant.now());
		session.changeSessionId();
		session.setAttribute(FindByIndexNameSessionRepository.PRINCIPAL_NAME_INDEX_NAME, "alice");
		a.save(session);
		a.save(session);
		a.shutdown();

		assertThat(indexed.findByPrincipalName("alice")).as("sessions of alice (maximumSessions relies on it)")
			.containsOnlyKeys(session.getId());
	}

	@Test
	void nodeRestartedEmpty_WhileTheSessionIsOnlyRead_ShouldStillBeTakenOverWithItsState() {
		StickySessionRepository a = server("a");
		StickySessionRepository b = server("b");
		String id = create(a, "user", "alice").getId();
		a.flush();
		primaryOf(id).restart();
		for (int i = 0; i < 5; i++) {
			assertThat(read(a, id, "user")).isEqualTo("alice");
		}
		a.shutdown();

		await().atMost(Duration.ofSeconds(20))
			.untilAsserted(() -> assertThat(read(b, id, "user")).isEqualTo("alice"));
	}

}
