package io.github.msm.session.lock;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.github.msm.session.node.NodeRing;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Locks by session, not by id, over two real memcached nodes: two {@link SessionLocks}
 * over stores of their own are two servers.
 */
@Timeout(60)
class SessionLocksIT {

	/** A base whose home is n1 of two nodes: its first 8 hex characters hash to index 0. */
	private static final String BASE = "00000000" + "0123456789abcdef01234567";

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private final NodeRing ring = NodeRing.parse(List.of(memcached.nodesProperty()));

	private final List<AutoCloseable> closing = new ArrayList<>();

	@AfterEach
	void close() throws Exception {
		for (AutoCloseable closeable : this.closing) {
			closeable.close();
		}
	}

	@Test
	void acquire_OldAndNewIdOfOneSessionOnTwoServers_ShouldShareOneLock() {
		SessionLocks server1 = locks(Duration.ofSeconds(5));
		SessionLocks server2 = locks(Duration.ofMillis(300));
		SessionLock held = server1.acquire(BASE + "-n1");
		assertThat(held.outcome()).isEqualTo(SessionLock.Outcome.ACQUIRED);

		SessionLock waiting = server2.acquire(BASE + "-n2");

		assertThat(waiting.outcome()).as("the moved id waits for the old id's holder")
			.isEqualTo(SessionLock.Outcome.TIMED_OUT);
		server2.release(waiting);
		server1.release(held);
		SessionLock next = server2.acquire(BASE + "-n2");
		assertThat(next.outcome()).isEqualTo(SessionLock.Outcome.ACQUIRED);
		server2.release(next);
	}

	@Test
	void acquire_IdsWithOtherRoutesInOneServer_ShouldQueueBehindEachOther() {
		SessionLocks server = locks(Duration.ofMillis(300));
		SessionLock held = server.acquire(BASE + "-n1.app1");

		SessionLock waiting = server.acquire(BASE + "-n1.app2");

		assertThat(held.outcome()).isEqualTo(SessionLock.Outcome.ACQUIRED);
		assertThat(waiting.outcome()).isEqualTo(SessionLock.Outcome.TIMED_OUT);
		server.release(waiting);
		server.release(held);
	}

	@Test
	void acquire_HomeNodeKilled_ShouldLockBothIdsOnTheNextNode() {
		SessionLocks server1 = locks(Duration.ofSeconds(5));
		SessionLocks server2 = locks(Duration.ofMillis(300));
		assertThat(server1.lockNode(BASE + "-n2").id()).as("home of the base").isEqualTo("n1");
		memcached.node("n1").kill();

		SessionLock held = server1.acquire(BASE + "-n1");

		assertThat(held.outcome()).isEqualTo(SessionLock.Outcome.ACQUIRED);
		assertThat(memcached.node("n2").get("lock:" + BASE)).as("the lock item on the next node").isNotNull();
		SessionLock waiting = server2.acquire(BASE + "-n2");
		assertThat(waiting.outcome()).as("the other server, that had not seen n1 die, waits on n2 too")
			.isEqualTo(SessionLock.Outcome.TIMED_OUT);
		server2.release(waiting);
		server1.release(held);
		assertThat(memcached.node("n2").get("lock:" + BASE)).as("released").isNull();
	}

	@Test
	void acquire_HomeNodeHung_ShouldLockBothIdsOnTheNextNodeAfterTheOperationTimeout() {
		SessionLocks server1 = locks(Duration.ofSeconds(5));
		SessionLocks server2 = locks(Duration.ofMillis(300));
		memcached.node("n1").hang();

		SessionLock held = server1.acquire(BASE + "-n1");

		assertThat(held.outcome()).isEqualTo(SessionLock.Outcome.ACQUIRED);
		assertThat(memcached.node("n2").get("lock:" + BASE)).as("the lock item on the next node").isNotNull();
		SessionLock waiting = server2.acquire(BASE + "-n2");
		assertThat(waiting.outcome()).isEqualTo(SessionLock.Outcome.TIMED_OUT);
		server2.release(waiting);
		server1.release(held);
	}

	@Test
	void acquire_HomeNodeBackWhileTheLockIsHeldOnTheNextNode_ShouldWaitForThatHolder() {
		SessionLocks server1 = locks(Duration.ofSeconds(5));
		memcached.node("n1").kill();
		SessionLock held = server1.acquire(BASE + "-n1");
		assertThat(held.outcome()).isEqualTo(SessionLock.Outcome.ACQUIRED);
		assertThat(memcached.node("n2").get("lock:" + BASE)).as("held on the next node").isNotNull();
		memcached.node("n1").restart();
		SessionLocks server2 = locks(Duration.ofMillis(300));

		SessionLock waiting = server2.acquire(BASE + "-n2");

		assertThat(waiting.outcome()).as("a server that sees the home node up waits for the holder on the next node")
			.isEqualTo(SessionLock.Outcome.TIMED_OUT);
		assertThat(memcached.node("n1").get("lock:" + BASE)).as("no lock item left on the home node").isNull();
		server2.release(waiting);
		server1.release(held);
		SessionLock next = server2.acquire(BASE + "-n2");
		assertThat(next.outcome()).isEqualTo(SessionLock.Outcome.ACQUIRED);
		server2.release(next);
	}

	@Test
	void acquire_EveryNodeDown_ShouldRunUnlockedButQueueInsideTheServer() {
		SessionLocks server = locks(Duration.ofMillis(300));
		memcached.all().forEach((node) -> node.kill());

		SessionLock first = server.acquire(BASE + "-n1");
		SessionLock second = server.acquire(BASE + "-n2");

		assertThat(first.outcome()).isEqualTo(SessionLock.Outcome.UNAVAILABLE);
		assertThat(second.outcome()).isEqualTo(SessionLock.Outcome.TIMED_OUT);
		server.release(second);
		server.release(first);
	}

	@Test
	void acquire_HostileOrForeignIds_ShouldLockNothing() {
		SessionLocks server = locks(Duration.ofMillis(300));

		assertThat(server.acquire("lock:x y")).isNull();
		assertThat(server.acquire(BASE + "-n9")).as("unknown node").isNull();
		assertThat(server.acquire(BASE.toUpperCase() + "-n1")).isNull();
	}

	@Test
	void localOnly_IdsOfOneSession_ShouldQueueWithoutMemcached() {
		SessionLocks sticky = SessionLocks.localOnly(this.ring, Duration.ofSeconds(5), Duration.ofMillis(300),
				SessionLockMetrics.none());
		memcached.resetStats();

		SessionLock held = sticky.acquire(BASE + "-n1.app1");
		SessionLock waiting = sticky.acquire(BASE + "-n2.app1");

		assertThat(held.outcome()).isEqualTo(SessionLock.Outcome.ACQUIRED);
		assertThat(waiting.outcome()).isEqualTo(SessionLock.Outcome.TIMED_OUT);
		sticky.release(waiting);
		sticky.release(held);
		assertThat(sticky.acquire(BASE + "-n2.app1").outcome()).isEqualTo(SessionLock.Outcome.ACQUIRED);
		assertThat(memcached.stat("cmd_set") + memcached.stat("cmd_get") + memcached.stat("cmd_touch"))
			.as("no memcached call").isZero();
	}

	private SessionLocks locks(Duration timeout) {
		MemcachedStore store = new MemcachedStore(this.ring.nodes(), true, Duration.ofMillis(1000));
		SessionLocks locks = new SessionLocks(store, this.ring, "", Duration.ofSeconds(5), timeout,
				SessionLockMetrics.none());
		this.closing.add(locks);
		this.closing.add(store);
		return locks;
	}

}
