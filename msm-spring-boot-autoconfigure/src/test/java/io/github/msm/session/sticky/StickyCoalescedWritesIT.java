package io.github.msm.session.sticky;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.github.msm.test.MemcachedServers;
import io.github.msm.test.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.session.events.SessionExpiredEvent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Queued writes ({@code msm.sticky.async-writes}) that coalesce several changes of a
 * session into one write: the local copy must then hold the version and CAS token of
 * what was written, so that the next change is one compare-and-set and expiry finds
 * memcached holding the copy's version (and deletes it, with its expired event).
 */
class StickyCoalescedWritesIT extends StickyITSupport {

	private static final int SESSIONS = 100;

	private static final int CHANGES = 5;

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@Test
	void oneChange_AfterCoalescedWrites_ShouldCostOneCompareAndSet() {
		// one node: no backup writes, so every cas counted is the change's own
		StickySessionRepository a = server("a", new MutableClock(Duration.ZERO), memcached.node("n1").nodeSpec());
		List<String> ids = coalescedSessions(a);

		memcached.resetStats();
		ids.forEach((id) -> write(a, id, "count", CHANGES + 1));
		a.flush();

		assertThat(memcached.stat("cas_badval")).as("compare-and-sets that missed").isZero();
		assertThat(memcached.stat("cas_misses")).as("compare-and-sets that found nothing").isZero();
		assertThat(memcached.stat("cas_hits")).as("compare-and-sets").isEqualTo(SESSIONS);
		assertThat(memcached.stat("cmd_get")).as("reads").isZero();
	}

	@Test
	void idleSessions_AfterCoalescedWrites_ShouldEachExpireWithOneEventAndTheirItemsDeleted() {
		MutableClock clock = new MutableClock(Duration.ZERO);
		StickySessionRepository a = server("a", clock);
		List<String> ids = coalescedSessions(a);

		clock.advance(Duration.ofMinutes(31));
		a.sweep();

		assertThat(this.events).filteredOn(SessionExpiredEvent.class::isInstance)
			.as("expired events")
			.hasSize(SESSIONS);
		assertThat(a.localSessionCount()).isZero();
		await().atMost(Duration.ofSeconds(20))
			.untilAsserted(() -> assertThat(ids).as("sessions still in memcached")
				.filteredOn((id) -> primaryOf(id).get(id) != null)
				.isEmpty());
	}

	/**
	 * {@value #SESSIONS} sessions changed {@value #CHANGES} times each through a queue
	 * with room for one session: most changes find it full and stay in the local copy,
	 * so the flush writes each such session's changes as one.
	 */
	private List<String> coalescedSessions(StickySessionRepository server) {
		server.setAsyncWrites(true, 1);
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < SESSIONS; i++) {
			ids.add(create(server, "count", 0).getId());
		}
		server.flush();
		double before = written();
		for (int change = 1; change <= CHANGES; change++) {
			for (String id : ids) {
				write(server, id, "count", change);
			}
		}
		server.flush();
		assertThat(written() - before).as("writes of %d changes (coalesced)", SESSIONS * CHANGES)
			.isLessThan(SESSIONS * CHANGES / 2.0);
		assertThat(ids).as("sessions whose last change memcached lacks")
			.filteredOn((id) -> !Integer.valueOf(CHANGES).equals(read(server, id, "count")))
			.isEmpty();
		return ids;
	}

	private double written() {
		return this.registry.counter("msm.session.saves", "outcome", "written").count();
	}

}
