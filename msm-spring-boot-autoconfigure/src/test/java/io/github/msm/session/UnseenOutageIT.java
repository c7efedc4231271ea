package io.github.msm.session;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 20, gap A: n1 hangs for 1–2 s (SIGSTOP). The mover sees it (its calls time out
 * after 500 ms), logs a quarter of the sessions out by their old id, moves the others
 * off it, logs a third of those out and writes to the rest; the bystander never sees the hang (its calls wait 3 s and it makes none to n1
 * meanwhile; its probe does not run, as an up node's probe runs only every 4 s). n1
 * resumes with every old copy. Right after, the bystander serves the old cookies: no
 * stale copy, no logged-out session, and no acknowledged write (the bystander's just
 * before the hang, the mover's during it, the bystander's after it) may be lost, whether
 * the mover stays up or dies before n1 resumes, with queued and synchronous backups.
 * Before the fix (main 43632c2): mover dead, 500 of 500 checks served the stale copy and
 * 500 of 500 served the logged-out session (both backup modes); mover alive, 260 and 258
 * (queued backups, 90 writes lost) and 207 and 207 (synchronous, 7 lost).
 */
class UnseenOutageIT extends RepositoryITSupport {

	private static final int SESSIONS = 100;

	private static final int ROUNDS = 5;

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(3);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@ParameterizedTest(name = "backupAsync={0}, moverDies={1}")
	@org.junit.jupiter.api.Timeout(300)
	@CsvSource({ "true, true", "true, false", "false, true", "false, false" })
	void findById_OldCookiesAfterAHangTheBystanderDidNotSee_ShouldServeNoStaleNoLoggedOutAndLoseNoWrite(
			boolean backupAsync, boolean moverDies) throws Exception {
		MemcachedSessionRepository bystander = server(Duration.ofSeconds(3), backupAsync);
		// its view is held from here on: every node up, as it found them
		await().atMost(Duration.ofSeconds(20))
			.until(() -> storeOf(bystander).availability().available().size() == 3);
		DelayedMoveTombstoneIT.stopProbe(storeOf(bystander));
		AtomicInteger stale = new AtomicInteger();
		AtomicInteger loggedOutServed = new AtomicInteger();
		AtomicInteger lost = new AtomicInteger();
		ExecutorService threads = Executors.newFixedThreadPool(20);
		try {
			for (int round = 0; round < ROUNDS; round++) {
				round(bystander, backupAsync, moverDies, round, threads, stale, loggedOutServed, lost);
			}
		}
		finally {
			threads.shutdownNow();
			if (memcached.node("n1").isHung()) {
				memcached.node("n1").resume();
			}
		}
		System.out.println("UnseenOutageIT backupAsync=" + backupAsync + " moverDies=" + moverDies + ": stale "
				+ stale + ", logged-out served " + loggedOutServed + ", acknowledged writes lost " + lost);
		org.assertj.core.api.SoftAssertions.assertSoftly((softly) -> {
			softly.assertThat(stale.get()).as("stale copies served").isZero();
			softly.assertThat(loggedOutServed.get()).as("logged-out sessions served").isZero();
			softly.assertThat(lost.get()).as("acknowledged writes lost").isZero();
		});
	}

	private void round(MemcachedSessionRepository bystander, boolean backupAsync, boolean moverDies, int round,
			ExecutorService threads, AtomicInteger stale, AtomicInteger loggedOutServed, AtomicInteger lost)
			throws Exception {
		assertThat(storeOf(bystander).availability().isAvailable(node("n1"))).as("the bystander never saw n1 down")
			.isTrue();
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < SESSIONS; i++) {
			MemcachedSession session = sessionOn(bystander, "n1");
			session.setAttribute("user", "user" + i);
			bystander.save(session);
			ids.add(session.getId());
		}
		bystander.awaitBackupWrites();
		// acknowledged just before the hang; a queued backup of it may not be written yet
		all(threads, ids, (id) -> {
			MemcachedSession session = bystander.findById(id);
			session.setAttribute("pre", round);
			bystander.save(session);
		});
		// the default operation timeout: a shorter one marks nodes down on a loaded machine, and a move
		// that finds no node with a copy returns no session
		MemcachedSessionRepository mover = server(Duration.ofSeconds(1), backupAsync);
		MemcachedNode n1 = node("n1");

		long hang = 1000 + java.util.concurrent.ThreadLocalRandom.current().nextLong(1000);
		memcached.node("n1").hang();
		long hungAt = System.nanoTime();
		storeOf(mover).availability().failed(n1, "a call timed out"); // as its next call would
		List<String> newIds = new ArrayList<>(java.util.Collections.nCopies(SESSIONS, (String) null));
		all(threads, ids, (id) -> {
			int i = ids.indexOf(id);
			if (i % 4 == 0) {
				mover.deleteById(id); // logout of a session it read before the hang
				return;
			}
			MemcachedSession moved = mover.findById(id);
			assertThat(moved).as("moved " + id).isNotNull();
			newIds.set(i, moved.getId());
			if (i % 2 == 0) {
				mover.deleteById(moved.getId()); // logout
			}
			else {
				moved.setAttribute("mover", round);
				mover.save(moved);
			}
		});
		if (moverDies) {
			mover.shutdown();
		}
		// a hang of 1 to 2 s, shorter than the bystander's timeout and up-node probe interval
		long left = hang - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - hungAt);
		if (left > 0) {
			await().pollDelay(Duration.ofMillis(left)).until(() -> true);
		}
		memcached.node("n1").resume();
		System.out.println("UnseenOutageIT round " + round + ": n1 hung for "
				+ TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - hungAt) + " ms");

		// the old cookies, at once
		all(threads, ids, (id) -> {
			int i = ids.indexOf(id);
			MemcachedSession found = bystander.findById(id);
			if (i % 2 == 0) {
				if (found != null) {
					loggedOutServed.incrementAndGet();
				}
				return;
			}
			if (found == null || found.getId().equals(id) || !Integer.valueOf(round).equals(found.getAttribute("mover"))) {
				stale.incrementAndGet();
				return;
			}
			found.setAttribute("after", round);
			bystander.save(found);
		});
		bystander.awaitBackupWrites();
		if (!moverDies) {
			mover.awaitBackupWrites();
		}

		// what any server finds afterwards, primary and backup
		MemcachedSessionRepository later = server(Duration.ofSeconds(1), backupAsync);
		for (int i = 0; i < SESSIONS; i++) {
			String id = ids.get(i);
			MemcachedSession found = later.findById(id);
			if (i % 2 == 0) {
				if (found != null || (newIds.get(i) != null && later.findById(newIds.get(i)) != null)) {
					loggedOutServed.incrementAndGet();
				}
				continue;
			}
			if (found == null || !found.getId().equals(newIds.get(i))) {
				stale.incrementAndGet();
				continue;
			}
			for (String name : List.of("user", "pre", "mover", "after")) {
				if (found.getAttribute(name) == null) {
					lost.incrementAndGet();
				}
			}
			SessionCodec.Data backup = readable(memcached.node("n3").get(SessionKeys.backup(found.getId())));
			SessionCodec.Data primary = readable(memcached.node("n2").get(found.getId()));
			if (backup == null || primary == null || backup.version() != primary.version()) {
				lost.incrementAndGet();
			}
		}
		if (!moverDies) {
			mover.shutdown();
		}
		later.shutdown();
	}

	private MemcachedSessionRepository server(Duration operationTimeout, boolean backupAsync) {
		NodeRing ring = NodeRing.parse(List.of(memcached.nodesProperty()));
		MemcachedStore store = new MemcachedStore(ring.nodes(), true, operationTimeout);
		MemcachedSessionRepository repository = new MemcachedSessionRepository(store, ring, kryo());
		repository.setMetrics(new SessionMetrics(new SimpleMeterRegistry()));
		repository.setBackupAsync(backupAsync);
		registerStore(repository, store);
		return repository;
	}

	private static MemcachedNode node(String nodeId) {
		return NodeRing.parse(List.of(memcached.nodesProperty())).node(nodeId);
	}

	private interface Work {

		void run(String id) throws Exception;

	}

	private static void all(ExecutorService threads, List<String> ids, Work work) throws Exception {
		List<Future<?>> done = new ArrayList<>();
		for (String id : ids) {
			done.add(threads.submit(() -> {
				work.run(id);
				return null;
			}));
		}
		for (Future<?> future : done) {
			future.get(60, TimeUnit.SECONDS);
		}
	}

}
