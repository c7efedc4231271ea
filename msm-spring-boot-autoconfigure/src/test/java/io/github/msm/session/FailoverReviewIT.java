package io.github.msm.session;

import java.lang.reflect.Field;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.awaitility.Awaitility.await;

/**
 * Adversarial review of the node-failover code (c35729a). Every test here fails against
 * that commit; each names the guarantee it breaks. Real memcached processes: SIGKILL,
 * SIGSTOP (a hung node or a network partition: it keeps its items) and empty restarts.
 */
class FailoverReviewIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(3);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	// A logged-out session must never come back ---------------------------------------

	/**
	 * A request read its session, then its node became unreachable (hung / partitioned,
	 * not restarted) and the request logs out. The delete cannot reach the primary and no
	 * tombstone is queued for it (unlike {@code SessionRemover.moved}): when the node is
	 * reachable again it still holds the logged-in session, served under the old cookie.
	 */
	@Test
	void deleteById_WhilePrimaryIsUnreachable_ShouldStayDeletedWhenThePrimaryIsBack() {
		MemcachedSession session = storedOn("n1");
		this.repository.awaitBackupWrites();
		MemcachedSession read = this.repository.findById(session.getId());
		memcached.node("n1").hang();
		this.repository.findById(sessionIdOn("n1")); // another request notices: n1 is down

		this.repository.deleteById(read.getId()); // logout
		this.repository.awaitBackupWrites();
		memcached.node("n1").resume();
		awaitUp(this.repository, "n1");

		assertThat(this.repository.findById(session.getId())).as("the logged-out session").isNull();
	}

	/**
	 * A request that read the session before its node died saves a change after another
	 * request moved the session ({@code -n1} to {@code -n2}) and logged out (deleting
	 * {@code -n2}, which leaves no tombstone on its primary). The save relocates to
	 * {@code -n2} with {@code add}, which succeeds on the empty key: the logged-out session
	 * is back, with the pre-logout attributes, and the browser is sent its id.
	 */
	@Test
	void save_OfARequestThatReadBeforeTheMove_ShouldNotBringBackTheMovedSessionLoggedOutMeanwhile() {
		MemcachedSession session = storedOn("n1");
		this.repository.awaitBackupWrites();
		MemcachedSession slow = this.repository.findById(session.getId());
		memcached.node("n1").kill();
		MemcachedSession moved = this.repository.findById(session.getId());
		assertThat(moved.getId()).isEqualTo(base(session) + "-n2");
		this.repository.deleteById(moved.getId()); // logout
		this.repository.awaitBackupWrites();

		slow.setAttribute("lastPage", "/orders");
		this.repository.save(slow);
		this.repository.awaitBackupWrites();

		MemcachedSessionRepository other = newRepository(Clock.systemUTC(), kryo(), new SimpleMeterRegistry());
		assertThat(other.findById(base(session) + "-n2")).as("the logged-out session, moved id").isNull();
		assertThat(other.findById(session.getId())).as("the logged-out session, old id").isNull();
	}

	/**
	 * The session was moved while its node hung, then logged out, and the server that
	 * moved it went away (deploy, crash) before the node answered again: the tombstone for
	 * the old node lived only in that server's memory ({@code SessionRemover.pending}). The
	 * node returns with the logged-in copy, which every other server serves under the old
	 * id ("a stale copy there is never served", README).
	 */
	// A server that never noticed the hang is covered by UnseenOutageIT (outage counters).
	@Test
	void findById_OldIdAfterAHungNodeResumes_ShouldNotServeTheStaleCopyWhenTheMovingServerIsGone() {
		MemcachedSession session = storedOn("n1");
		this.repository.awaitBackupWrites();
		MemcachedSessionRepository mover = newRepository(Clock.systemUTC(), kryo(), new SimpleMeterRegistry());
		memcached.node("n1").hang();
		MemcachedSession moved = mover.findById(session.getId());
		assertThat(moved.getId()).isEqualTo(base(session) + "-n2");
		mover.deleteById(moved.getId()); // logout
		mover.awaitBackupWrites();
		mover.shutdown();

		// this server notices the outage too (its probe), as servers in use do
		await().atMost(Duration.ofSeconds(15))
			.until(() -> !storeOf(this.repository).availability().isAvailable(node("n1")));
		memcached.node("n1").resume();
		awaitUp(this.repository, "n1");

		assertThat(this.repository.findById(session.getId())).as("the stale, logged-out copy on n1").isNull();
	}

	/**
	 * No node is up at save time: the session is kept locally under its id. Its logout must
	 * reach the node once it is reachable again (it was partitioned, not restarted), or the
	 * old copy is live again: the old cookie would still log in.
	 */
	@Test
	void save_WhenAllNodesAreDown_ShouldNotLeaveTheOldIdAliveForWhenItsNodeIsBack() {
		MemcachedSession session = storedOn("n1");
		this.repository.awaitBackupWrites();
		MemcachedSession read = this.repository.findById(session.getId());
		memcached.node("n2").kill();
		memcached.node("n3").kill();
		this.repository.findById(sessionIdOn("n2"));
		this.repository.findById(sessionIdOn("n3"));
		memcached.node("n1").hang();
		this.repository.findById(sessionIdOn("n1"));

		read.setAttribute("counter", 1);
		this.repository.save(read);
		assertThat(read.getId()).isEqualTo(session.getId());
		this.repository.deleteById(read.getId()); // logout while no node is up
		memcached.node("n1").resume();
		awaitUp(this.repository, "n1");

		assertThat(this.repository.findById(session.getId())).as("the logged-out session under its old id").isNull();
	}

	// A renamed session must never come back -----------------------------------------------

	/**
	 * Login (changeSessionId) and a concurrent request of the same browser both read
	 * {@code A-n1}; n1 dies. The login is saved first: it moves to {@code B-n2} and
	 * tombstones {@code A-n1}. The concurrent request is saved next: it relocates the
	 * renamed session to {@code A-n2} ({@code add} on an empty key), and its moved
	 * tombstones replace the login's plain ones, so the pre-login id (which an attacker may
	 * have fixated) is alive again. Without the node failure the same save is discarded.
	 */
	@Test
	void save_OfAConcurrentRequest_AfterALoginThatMovedTheSession_ShouldNotRecreateThePreLoginId() {
		MemcachedSession session = storedOn("n1");
		this.repository.awaitBackupWrites();
		MemcachedSession login = this.repository.findById(session.getId());
		MemcachedSession concurrent = this.repository.findById(session.getId());
		memcached.node("n1").kill();

		login.changeSessionId();
		login.setAttribute("principal", "alice");
		this.repository.save(login);
		assertThat(login.getId()).doesNotStartWith(base(session)).endsWith("-n2");
		concurrent.setAttribute("lastPage", "/cart");
		this.repository.save(concurrent);
		this.repository.awaitBackupWrites();

		MemcachedSessionRepository attacker = newRepository(Clock.systemUTC(), kryo(), new SimpleMeterRegistry());
		assertThat(attacker.findById(session.getId())).as("pre-login id").isNull();
		assertThat(attacker.findById(base(session) + "-n2")).as("pre-login base on n2").isNull();
	}

	// No lost writes --------------------------------------------------------------------

	/**
	 * A request read {@code A-n1}; n1 died and another request moved the session to
	 * {@code A-n2}; n1 came back (empty, with the moved tombstone written by this server)
	 * before the first request saved. Its save goes to n1 (up again), meets the moved
	 * tombstone and is discarded as if the session had been renamed: a lost write ("a save
	 * whose node died after the read stores the change the same way", README).
	 */
	@Test
	void save_WhenThePrimaryCameBackWithAMovedTombstoneAfterTheRead_ShouldStoreTheChangeInTheMovedSession() {
		MemcachedSession session = storedOn("n1");
		this.repository.awaitBackupWrites();
		MemcachedSession slow = this.repository.findById(session.getId());
		memcached.node("n1").kill();
		MemcachedSession moved = this.repository.findById(session.getId());
		memcached.node("n1").restart();
		awaitUp(this.repository, "n1");
		await().atMost(Duration.ofSeconds(5)).until(() -> memcached.node("n1").get(session.getId()) != null);

		slow.setAttribute("counter", 7);
		this.repository.save(slow);

		MemcachedSession found = this.repository.findById(moved.getId());
		assertThat((Integer) found.getAttribute("counter")).isEqualTo(7);
		assertThat(discarded(this.registry)).isZero();
	}

	/**
	 * The primary dies right after a save whose backup write is still queued on this
	 * server's backup lane (a lane runs behind under load or while its node is slow). The
	 * move reads the older backup copy and relocates it; the queued write then lands on
	 * the old backup key and is replaced by the moved tombstone: the counter goes back,
	 * although this very server held the newer version.
	 */
	@Test
	void findById_WhenThePrimaryDiesWhileItsLastBackupWriteIsQueuedOnThisServer_ShouldNotGoBack() throws Exception {
		MemcachedSession session = storedOn("n1");
		this.repository.awaitBackupWrites();
		MemcachedSession read = this.repository.findById(session.getId());
		read.setAttribute("counter", 1);
		this.repository.save(read);
		this.repository.awaitBackupWrites();
		CountDownLatch lane = holdBackupLane(this.repository, node("n2"));
		try {
			MemcachedSession next = this.repository.findById(session.getId());
			next.setAttribute("counter", 2);
			this.repository.save(next);
			memcached.node("n1").kill();

			MemcachedSession moved = this.repository.findById(session.getId());

			assertThat(moved.getId()).isEqualTo(base(session) + "-n2");
			assertThat((Integer) moved.getAttribute("counter")).isEqualTo(2);
		}
		finally {
			lane.countDown();
		}
	}

	// Local sessions (all nodes down) -----------------------------------------------------

	/**
	 * Login while no node is up: {@code changeSessionId} on a local id throws
	 * {@code IllegalArgumentException} ({@code SessionIdFormat.changeId} accepts only ids
	 * with a node), so Spring Security's session fixation protection fails the login with
	 * a 500.
	 */
	@Test
	void changeSessionId_OfALocalSession_ShouldNotThrowAndShouldKillTheOldId() {
		killAllNodes();
		MemcachedSession local = this.repository.createSession();
		local.setAttribute("cart", "1");
		this.repository.save(local);
		MemcachedSession read = this.repository.findById(local.getId());

		assertThatCode(() -> {
			read.changeSessionId();
			read.setAttribute("principal", "alice");
			this.repository.save(read);
		}).doesNotThrowAnyException();
		assertThat(this.repository.findById(local.getId())).as("the pre-login local id").isNull();
	}

	/**
	 * Once a node is back, the first request with a local id moves the session to the node
	 * and forgets the local id. A parallel request of the same page (same cookie, a moment
	 * later) then finds nothing: the user is logged out, and if that request creates a
	 * session its cookie replaces the moved one. Node ids are followed through moved
	 * tombstones; local ids are not.
	 */
	@Test
	void findById_OfALocalSessionByAParallelRequestJustAfterItAttached_ShouldFindTheAttachedSession() {
		killAllNodes();
		MemcachedSession local = this.repository.createSession();
		local.setAttribute("user", "alice");
		this.repository.save(local);
		memcached.node("n2").restart();
		awaitUp(this.repository, "n2");

		MemcachedSession first = this.repository.findById(local.getId());
		MemcachedSession second = this.repository.findById(local.getId());

		assertThat(first.getId()).isEqualTo(local.getId() + "-n2");
		assertThat(second).as("the same session for the parallel request").isNotNull();
		assertThat(second.getId()).isEqualTo(first.getId());
	}

	/**
	 * Two requests hold the same local session when nodes come back; each save attaches it
	 * to a node chosen at random ({@code nodeForNewSession}), so they can pick different
	 * nodes: two sessions {@code L-n2} and {@code L-n3}, each with one request's change, and
	 * the browser keeps whichever cookie came last. Node ids meet on one new id when two
	 * servers move them; local ids do not. (Ten sessions: passes by chance with p = 2^-10.)
	 */
	@Test
	void save_OfTwoRequestsOnALocalSession_AfterNodesAreBack_ShouldKeepBothChangesInOneSession() {
		killAllNodes();
		List<MemcachedSession[]> pairs = new ArrayList<>();
		for (int i = 0; i < 10; i++) {
			MemcachedSession local = this.repository.createSession();
			local.setAttribute("user", "alice");
			this.repository.save(local);
			pairs.add(new MemcachedSession[] { this.repository.findById(local.getId()),
					this.repository.findById(local.getId()) });
		}
		memcached.node("n2").restart();
		memcached.node("n3").restart();
		awaitUp(this.repository, "n2");
		awaitUp(this.repository, "n3");

		for (MemcachedSession[] pair : pairs) {
			pair[0].setAttribute("a", 1);
			this.repository.save(pair[0]);
			pair[1].setAttribute("b", 2);
			this.repository.save(pair[1]);
			assertThat(pair[1].getId()).as("both requests end in one session").isEqualTo(pair[0].getId());
		}
	}

	// Hostile bytes ---------------------------------------------------------------------

	/**
	 * A moved tombstone only ever points to the same 32-hex base on another node, but
	 * {@code SessionFailover.follow} accepts any well-formed id: crafted bytes under any
	 * id's backup key lead that id to someone else's session.
	 */
	@Test
	void findById_MovedTombstonePointingToAnotherBase_ShouldNotLeadToThatSession() {
		MemcachedSession victim = storedOn("n2");
		String attackerId = "fedcba9876543210fedcba9876543210-n1";
		byte[] crafted = SessionCodec.movedTombstone(victim.getId());
		memcached.node("n2").set("bak:" + attackerId, crafted, 0);
		memcached.node("n3").set("bak:" + attackerId, crafted, 0);
		memcached.node("n1").kill();
		this.repository.findById(sessionIdOn("n1"));

		MemcachedSession found = this.repository.findById(attackerId);

		assertThat(found).as("another session reached through a crafted tombstone").isNull();
	}

	// Failover nodes ----------------------------------------------------------------------

	/**
	 * A regular node is back; server 1 moves a session off the failover node and leaves a
	 * moved tombstone there. Server 2 has not noticed the regular node yet (its probe asks
	 * down nodes once a second; or one of its calls just failed): it reads the tombstone,
	 * {@code follow} refuses the target node as down and answers "no session", although
	 * the moved session's backup sits on the failover node it just read. Every session on
	 * the failover node is lost this way for requests on servers that lag.
	 */
	@Test
	void findById_OnAServerThatHasNotSeenTheRegularNodeReturn_ShouldNotLoseTheSessionLeavingTheFailoverNode() {
		NodeRing ring = NodeRing.parse(List.of(memcached.nodesProperty())).withFailoverNodes(List.of("n3"));
		MemcachedStore store1 = new MemcachedStore(ring.nodes(), true, Duration.ofMillis(1000));
		MemcachedStore store2 = new MemcachedStore(ring.nodes(), true, Duration.ofMillis(1000));
		MemcachedSessionRepository server1 = new MemcachedSessionRepository(store1, ring, kryo());
		MemcachedSessionRepository server2 = new MemcachedSessionRepository(store2, ring, kryo());
		try {
			memcached.node("n1").kill();
			memcached.node("n2").kill();
			for (MemcachedSessionRepository server : List.of(server1, server2)) {
				server.findById(sessionIdOn("n1"));
				server.findById(sessionIdOn("n2"));
			}
			MemcachedSession session = server1.createSession();
			session.setAttribute("user", "alice");
			server1.save(session);
			assertThat(server1.nodeIdOf(session.getId())).isEqualTo("n3");
			memcached.node("n1").restart();
			MemcachedNode n1 = ring.node("n1");
			await().atMost(Duration.ofSeconds(10)).until(() -> store1.availability().isAvailable(n1));
			MemcachedSession moved = server1.findById(session.getId());
			assertThat(server1.nodeIdOf(moved.getId())).isEqualTo("n1");
			server1.awaitBackupWrites();

			store2.availability().failed(n1, "not probed since it came back");
			MemcachedSession viaServer2 = server2.findById(session.getId());

			assertThat(viaServer2).as("the session, via the server that lags").isNotNull();
			assertThat((String) viaServer2.getAttribute("user")).isEqualTo("alice");
		}
		finally {
			server1.shutdown();
			server2.shutdown();
		}
	}

	// helpers ---------------------------------------------------------------------------

	private void killAllNodes() {
		memcached.all().forEach((server) -> server.kill());
		for (String nodeId : List.of("n1", "n2", "n3")) {
			this.repository.findById(sessionIdOn(nodeId));
		}
	}

	private void awaitUp(MemcachedSessionRepository repository, String nodeId) {
		MemcachedNode node = node(nodeId);
		await().atMost(Duration.ofSeconds(15)).until(() -> storeOf(repository).availability().isAvailable(node));
	}

	private static MemcachedNode node(String nodeId) {
		return NodeRing.parse(List.of(memcached.nodesProperty())).node(nodeId);
	}

	/**
	 * Holds this server's backup lane of a node, as a lane that runs behind does (up to
	 * 10,000 writes queued, or a slow node). Test-only reflection into the repository.
	 */
	private static CountDownLatch holdBackupLane(MemcachedSessionRepository repository, MemcachedNode node)
			throws Exception {
		Field partsField = MemcachedSessionRepository.class.getDeclaredField("parts");
		partsField.setAccessible(true);
		RepositoryParts parts = (RepositoryParts) partsField.get(repository);
		CountDownLatch release = new CountDownLatch(1);
		parts.backup.holdLane(node, release);
		return release;
	}

}
