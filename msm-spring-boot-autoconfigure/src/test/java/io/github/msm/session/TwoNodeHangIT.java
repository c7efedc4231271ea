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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 20, the stale reads {@code RealisticTrafficIT} found when a session's primary
 * and backup node hang together (real memcached, SIGSTOP): each case as its own
 * scenario, {@value #SESSIONS} sessions written by {@value #THREADS} threads over two
 * servers. The servers' views of the nodes are driven as their timeouts and probes
 * would (a node is marked down while it hangs, up once it answers), so that each
 * server's view is known.
 *
 * <ul>
 * <li>An interim backup: while n2 (the backup node of n1's sessions) hangs, the backups
 * go to n3. Once n2 is back they go to n2 again and the copies on n3 stop changing.
 * When n1 and n2 then hang together, n3's copy was served: every change since was
 * missing (before the fix, every session).</li>
 * <li>A session moved back to an id it had (n1, n2, n3, n1 as one node after the other
 * hangs): the tombstone of its first move stayed next to the backup under that id, so
 * backup writes of the id were refused, and a server checking reads after an outage
 * followed it to the id of the second move, a tombstone too: the session was answered
 * as gone, the browser got a new one (before the fix, every session).</li>
 * </ul>
 */
class TwoNodeHangIT extends RepositoryITSupport {

	private static final int SESSIONS = 100;

	private static final int THREADS = 32;

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(3);

	private final ExecutorService threads = Executors.newFixedThreadPool(THREADS);

	/** The servers this test built and has not shut down yet. */
	private final List<MemcachedSessionRepository> running = new ArrayList<>();

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@AfterEach
	void resumeNodes() {
		this.threads.shutdownNow();
		this.running.forEach(MemcachedSessionRepository::shutdown);
		memcached.all().forEach((node) -> {
			if (node.isHung()) {
				node.resume();
			}
		});
	}

	@ParameterizedTest(name = "backupAsync={0}")
	@ValueSource(booleans = { true, false })
	@Timeout(180)
	void findById_PrimaryAndBackupHangAfterAnInterimBackup_ShouldServeNoStaleCopy(boolean backupAsync)
			throws Exception {
		MemcachedSessionRepository a = server(backupAsync);
		MemcachedSessionRepository b = server(backupAsync);
		List<MemcachedSessionRepository> both = List.of(a, b);
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < SESSIONS; i++) {
			MemcachedSession session = sessionOn(a, "n1");
			session.setAttribute("counter", 0);
			a.save(session);
			ids.add(session.getId());
		}
		// n2 hangs: both servers write the backups of n1's sessions to n3 meanwhile
		memcached.node("n2").hang();
		both.forEach((server) -> availability(server).failed(node("n2"), "a call timed out"));
		incrementAll(both, ids);
		both.forEach(MemcachedSessionRepository::awaitBackupWrites);
		assertThat(ids).as("interim backups on n3")
			.allMatch((id) -> readable(memcached.node("n3").get(SessionKeys.backup(id))) != null);
		// n2 is back: the backups go to n2 again, the sessions change twice more
		memcached.node("n2").resume();
		both.forEach((server) -> availability(server).answered(node("n2"), false));
		incrementAll(both, ids);
		incrementAll(both, ids);
		both.forEach(MemcachedSessionRepository::awaitBackupWrites);

		// n1 and n2 hang together; a third server reads every session
		memcached.node("n1").hang();
		memcached.node("n2").hang();
		MemcachedSessionRepository reader = server(backupAsync);
		availability(reader).failed(node("n1"), "a call timed out");
		availability(reader).failed(node("n2"), "a call timed out");
		AtomicInteger stale = new AtomicInteger();
		all(ids, (id) -> {
			MemcachedSession found = reader.findById(id);
			if (found != null && !Integer.valueOf(3).equals(found.getAttribute("counter"))) {
				stale.incrementAndGet();
			}
		});
		memcached.node("n1").resume();
		memcached.node("n2").resume();
		System.out.println("TwoNodeHangIT interim backup, backupAsync=" + backupAsync + ": stale " + stale);
		assertThat(stale.get()).as("stale copies served").isZero();
	}

	@ParameterizedTest(name = "backupAsync={0}")
	@ValueSource(booleans = { true, false })
	@Timeout(180)
	void findById_PrimaryAndInterimBackupHangAfterTheBackupNodeCameBack_ShouldServeNoStaleCopy(boolean backupAsync)
			throws Exception {
		MemcachedSessionRepository a = server(backupAsync);
		MemcachedSessionRepository b = server(backupAsync);
		List<MemcachedSessionRepository> both = List.of(a, b);
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < SESSIONS; i++) {
			MemcachedSession session = sessionOn(a, "n1");
			session.setAttribute("counter", 0);
			a.save(session);
			ids.add(session.getId());
		}
		a.awaitBackupWrites();
		// n2, the backup node, hangs: the sessions change, their backups go to n3
		memcached.node("n2").hang();
		both.forEach((server) -> availability(server).failed(node("n2"), "a call timed out"));
		incrementAll(both, ids);
		both.forEach(MemcachedSessionRepository::awaitBackupWrites);
		// n2 is back with the older copies; nobody reads the sessions before n1 and n3 hang
		memcached.node("n2").resume();
		both.forEach((server) -> availability(server).answered(node("n2"), false));
		await().atMost(Duration.ofSeconds(60))
			.untilAsserted(() -> assertThat(ids).as("older copies left on n2")
				.noneMatch((id) -> readable(memcached.node("n2").get(SessionKeys.backup(id))) != null));
		memcached.node("n1").hang();
		memcached.node("n3").hang();
		MemcachedSessionRepository reader = server(backupAsync);
		availability(reader).failed(node("n1"), "a call timed out");
		availability(reader).failed(node("n3"), "a call timed out");
		AtomicInteger stale = new AtomicInteger();
		all(ids, (id) -> {
			MemcachedSession found = reader.findById(id);
			if (found != null && !Integer.valueOf(1).equals(found.getAttribute("counter"))) {
				stale.incrementAndGet();
			}
		});
		memcached.node("n1").resume();
		memcached.node("n3").resume();
		System.out.println("TwoNodeHangIT displaced backup, backupAsync=" + backupAsync + ": stale " + stale);
		assertThat(stale.get()).as("stale copies served").isZero();
	}

	@ParameterizedTest(name = "backupAsync={0}, moverDies={1}")
	@CsvSource({ "true, false", "true, true", "false, false", "false, true" })
	@Timeout(180)
	void findById_SessionMovedBackToAnIdItHad_ShouldServeItAndKeepItsBackup(boolean backupAsync, boolean moverDies)
			throws Exception {
		MemcachedSessionRepository mover = server(backupAsync);
		MemcachedSessionRepository other = server(backupAsync);
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < SESSIONS; i++) {
			MemcachedSession session = sessionOn(other, "n1");
			session.setAttribute("counter", 0);
			other.save(session);
			ids.add(session.getId());
		}
		other.awaitBackupWrites();
		// n1, n2, n3 hang one after the other: the mover moves each session on, back to n1
		List<String> current = new ArrayList<>(ids);
		for (String hung : List.of("n1", "n2", "n3")) {
			// when the mover dies, n2 hangs again with n3: the mover cannot remove the
			// tombstone of the first move next to n2's backup, nobody else will
			boolean withN2 = moverDies && hung.equals("n3");
			memcached.node(hung).hang();
			availability(mover).failed(node(hung), "a call timed out");
			if (withN2) {
				memcached.node("n2").hang();
				availability(mover).failed(node("n2"), "a call timed out");
			}
			all(ids, (id) -> {
				int i = ids.indexOf(id);
				MemcachedSession moved = mover.findById(current.get(i));
				assertThat(moved).as("moved off " + hung).isNotNull();
				moved.setAttribute("counter", (Integer) moved.getAttribute("counter") + 1);
				mover.save(moved);
				current.set(i, moved.getId());
			});
			mover.awaitBackupWrites();
			memcached.node(hung).resume();
			if (withN2) {
				memcached.node("n2").resume();
			}
			else {
				availability(mover).answered(node(hung), false);
			}
		}
		assertThat(current).as("moved back to the ids they had").isEqualTo(ids);
		if (moverDies) {
			this.running.remove(mover);
			mover.shutdown();
		}
		// the other server saw n1 go down and come back: it checks reads from n1
		availability(other).failed(node("n1"), "a call timed out");
		availability(other).answered(node("n1"), false);
		AtomicInteger gone = new AtomicInteger();
		AtomicInteger noBackup = new AtomicInteger();
		all(ids, (id) -> {
			MemcachedSession found = other.findById(id);
			if (found == null || !found.getId().equals(id) || !Integer.valueOf(3).equals(found.getAttribute("counter"))) {
				gone.incrementAndGet();
				return;
			}
			found.setAttribute("counter", 4);
			other.save(found);
		});
		other.awaitBackupWrites();
		for (String id : ids) {
			SessionCodec.Data primary = readable(memcached.node("n1").get(id));
			SessionCodec.Data backup = readable(memcached.node("n2").get(SessionKeys.backup(id)));
			if (primary == null || backup == null || backup.version() != primary.version()) {
				noBackup.incrementAndGet();
			}
		}
		System.out.println("TwoNodeHangIT moved back, backupAsync=" + backupAsync + ", moverDies=" + moverDies
				+ ": answered as gone or stale " + gone + ", without a backup " + noBackup);
		assertThat(gone.get()).as("sessions answered as gone or stale").isZero();
		assertThat(noBackup.get()).as("sessions without a current backup on n2").isZero();
	}

	@ParameterizedTest(name = "backupAsync={0}")
	@ValueSource(booleans = { true, false })
	@Timeout(180)
	void findById_LoggedOutWhileItsNodesHung_ShouldNotServeItOnAServerThatSawNoOutage(boolean backupAsync)
			throws Exception {
		MemcachedSessionRepository bystander = server(backupAsync);
		MemcachedSessionRepository other = server(backupAsync);
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < SESSIONS; i++) {
			MemcachedSession session = sessionOn(bystander, "n2");
			session.setAttribute("counter", 0);
			bystander.save(session);
			ids.add(session.getId());
		}
		bystander.awaitBackupWrites();
		// the session's node and its backup node hang; the other server logs every session
		// out meanwhile: its tombstones can only go to n1, and so can its announcement
		memcached.node("n2").hang();
		memcached.node("n3").hang();
		availability(other).failed(node("n2"), "a call timed out");
		availability(other).failed(node("n3"), "a call timed out");
		all(ids, other::deleteById);
		// n3 comes back first, holding the counters as they were before the announcement
		memcached.node("n3").resume();
		memcached.node("n2").resume();
		AtomicInteger served = new AtomicInteger();
		all(ids, (id) -> {
			if (bystander.findById(id) != null) {
				served.incrementAndGet();
			}
		});
		System.out.println("TwoNodeHangIT logout while hung, backupAsync=" + backupAsync + ": logged-out served "
				+ served);
		assertThat(served.get()).as("logged-out sessions served").isZero();
	}

	/** Every session one more, the servers taking turns, {@value #THREADS} at once. */
	private void incrementAll(List<MemcachedSessionRepository> servers, List<String> ids) throws Exception {
		all(ids, (id) -> {
			MemcachedSessionRepository server = servers.get(ids.indexOf(id) % servers.size());
			MemcachedSession session = server.findById(id);
			assertThat(session).as(id).isNotNull();
			session.setAttribute("counter", (Integer) session.getAttribute("counter") + 1);
			server.save(session);
		});
	}

	private MemcachedSessionRepository server(boolean backupAsync) throws Exception {
		NodeRing ring = NodeRing.parse(List.of(memcached.nodesProperty()));
		MemcachedStore store = new MemcachedStore(ring.nodes(), true, Duration.ofSeconds(1));
		MemcachedSessionRepository repository = new MemcachedSessionRepository(store, ring, kryo());
		repository.setMetrics(new SessionMetrics(new SimpleMeterRegistry()));
		repository.setBackupAsync(backupAsync);
		registerStore(repository, store);
		this.running.add(repository);
		// its view of the nodes is what this test tells it
		DelayedMoveTombstoneIT.stopProbe(store);
		return repository;
	}

	private io.github.msm.session.node.NodeAvailability availability(MemcachedSessionRepository server) {
		return storeOf(server).availability();
	}

	private static MemcachedNode node(String nodeId) {
		return NodeRing.parse(List.of(memcached.nodesProperty())).node(nodeId);
	}

	private interface Work {

		void run(String id) throws Exception;

	}

	private void all(List<String> ids, Work work) throws Exception {
		List<Future<?>> done = new ArrayList<>();
		for (String id : ids) {
			done.add(this.threads.submit(() -> {
				work.run(id);
				return null;
			}));
		}
		for (Future<?> future : done) {
			future.get(60, TimeUnit.SECONDS);
		}
	}

}
