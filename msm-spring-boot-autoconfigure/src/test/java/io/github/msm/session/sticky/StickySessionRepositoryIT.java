package io.github.msm.session.sticky;

import java.time.Duration;

import io.github.msm.session.MemcachedSession;
import io.github.msm.test.MemcachedServers;
import io.github.msm.test.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.session.events.SessionCreatedEvent;
import org.springframework.session.events.SessionDeletedEvent;
import org.springframework.session.events.SessionExpiredEvent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Sticky mode against real memcached: what each kind of request costs (counted by the
 * servers' own {@code stats}), takeover between two servers and the stale copy it rules
 * out, expiry and events.
 */
class StickySessionRepositoryIT extends StickyITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@Test
	void unmodifiedReads_OnTheOwningServer_ShouldCostNoMemcachedOperation() {
		StickySessionRepository a = server("a");
		String id = create(a, "user", "alice").getId();
		a.flush();
		memcached.resetStats();

		for (int i = 0; i < 100; i++) {
			assertThat(read(a, id, "user")).isEqualTo("alice");
		}
		a.flush();

		assertThat(ops("cmd_get")).as("gets").isZero();
		assertThat(ops("cmd_set")).as("sets").isZero();
		assertThat(ops("cmd_touch")).as("touches").isZero();
	}

	@Test
	void unmodifiedReads_OverManyHalfIntervals_ShouldTouchAtMostOncePerTwentyRequests() {
		MutableClock clock = new MutableClock(Duration.ZERO);
		StickySessionRepository a = server("a", clock);
		String id = create(a, "user", "alice").getId();
		a.flush();
		memcached.resetStats();

		// 100 requests 10 s apart: 1 000 s, over three half intervals of 10 min; the data
		// item lives about two intervals, so it is touched (primary and backup) once or
		// twice, where a 20 s spacing made the count depend on where the third renewal fell
		for (int i = 0; i < 100; i++) {
			clock.advance(Duration.ofSeconds(10));
			setInterval(a, clock, id, i);
		}
		a.flush();

		assertThat(ops("cmd_get")).as("gets").isZero();
		assertThat(ops("cmd_touch") / 100.0).as("touches per request").isLessThanOrEqualTo(0.05);
		assertThat(ops("cmd_set") / 100.0).as("38-byte access writes per request (primary and backup)")
			.isLessThanOrEqualTo(0.2);
	}

	/** The first request sets a 10-minute interval; the others only read. */
	private static void setInterval(StickySessionRepository server, MutableClock clock, String id, int request) {
		MemcachedSession session = server.findById(id);
		assertThat(session).as("request %d", request).isNotNull();
		session.setLastAccessedTime(clock.instant());
		if (request == 0) {
			session.setMaxInactiveInterval(Duration.ofMinutes(10));
		}
		server.save(session);
		server.save(session);
		if (request == 0) {
			server.flush();
			memcached.resetStats();
		}
	}

	@Test
	void modifiedRequest_OnTheOwningServer_ShouldCostOneCasAndTheQueuedBackupWrite() {
		StickySessionRepository a = server("a");
		String id = create(a, "count", 0).getId();
		a.flush();
		memcached.resetStats();

		write(a, id, "count", 1);
		a.flush();

		assertThat(primaryOf(id).stat("cmd_get")).as("gets on the primary").isZero();
		assertThat(primaryOf(id).stat("cmd_set")).as("writes on the primary").isEqualTo(1);
		assertThat(primaryOf(id).stat("cas_hits")).as("compare-and-set hits").isEqualTo(1);
		// the backup write is a cas with the token of this server's last backup write
		assertThat(allOps()).as("operations on all nodes").isEqualTo(2);
	}

	@Test
	void takeover_OfAnotherRoutesSession_ShouldKeepBaseAndNodeAndGiveItThisRoute() {
		StickySessionRepository a = server("a");
		StickySessionRepository b = server("b");
		String idA = create(a, "user", "alice").getId();
		a.flush();

		MemcachedSession taken = b.findById(idA);
		assertThat(taken).isNotNull();
		b.save(taken);
		b.save(taken);
		b.flush();

		assertThat(taken.getId()).isEqualTo(idA.substring(0, idA.indexOf('.')) + ".b");
		assertThat((String) taken.getAttribute("user")).isEqualTo("alice");
		assertThat(read(b, taken.getId(), "user")).isEqualTo("alice");
		assertThat(primaryOf(idA).get(idA)).as("old key holds a tombstone").hasSizeLessThan(10);
	}

	@Test
	void backOnTheFormerServer_WithTheNewServersId_ShouldServeTheNewServersStateNotItsStaleCopy() {
		StickySessionRepository a = server("a");
		StickySessionRepository b = server("b");
		String idA = create(a, "count", 1).getId();
		assertThat(read(a, idA, "count")).isEqualTo(1);
		// the load balancer sends the user to B (A looked down), B changes the session
		String idB = write(b, idA, "count", 2);
		assertThat(idB).endsWith(".b");
		b.flush();

		// back on A with B's cookie: A must not serve its local count=1
		MemcachedSession back = a.findById(idB);
		assertThat(back).isNotNull();
		assertThat((Integer) back.getAttribute("count")).isEqualTo(2);
		a.save(back);
		a.save(back);
		assertThat(back.getId()).isEqualTo(idA);
		assertThat(read(a, idA, "count")).isEqualTo(2);
	}

	@Test
	void staleLocalCopy_WrittenAfterATakeover_ShouldNotOverwriteTheTakenOverSession() {
		StickySessionRepository a = server("a");
		StickySessionRepository b = server("b");
		String idA = create(a, "count", 1).getId();
		String idB = write(b, idA, "count", 2);
		b.flush();

		// a request still carrying A's id reaches A: its compare-and-set finds the tombstone
		write(a, idA, "count", 99);

		assertThat(read(b, idB, "count")).isEqualTo(2);
		assertThat(a.findById(idA)).as("A's stale copy is gone").isNull();
	}

	@Test
	void idleSession_PastItsInterval_ShouldBeDeletedLocallyAndInMemcachedWithOneExpiredEvent() {
		MutableClock clock = new MutableClock(Duration.ZERO);
		StickySessionRepository a = server("a", clock);
		String id = create(a, "user", "alice").getId();
		a.flush();

		clock.advance(Duration.ofMinutes(31));
		a.sweep();
		a.sweep();

		assertThat(a.localSessionCount()).isZero();
		await().untilAsserted(() -> assertThat(primaryOf(id).get(id)).as("memcached copy").isNull());
		assertThat(this.events).filteredOn(SessionExpiredEvent.class::isInstance).hasSize(1);
	}

	@Test
	void createAndInvalidate_ShouldPublishCreatedAndDeletedEvents() {
		StickySessionRepository a = server("a");
		String id = create(a, "user", "alice").getId();

		a.deleteById(id);

		assertThat(this.events).filteredOn(SessionCreatedEvent.class::isInstance).hasSize(1);
		assertThat(this.events).filteredOn(SessionDeletedEvent.class::isInstance)
			.singleElement()
			.satisfies((event) -> assertThat(((SessionDeletedEvent) event).getSessionId()).isEqualTo(id));
		assertThat(a.findById(id)).isNull();
	}

	@Test
	void shutdown_ShouldKeepSessionsInMemcachedForTheNextServer() {
		StickySessionRepository a = server("a");
		String id = create(a, "user", "alice").getId();

		a.shutdown();

		assertThat(read(server("b"), id, "user")).isEqualTo("alice");
	}

}
