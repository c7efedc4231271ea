package io.github.msm.session.sticky;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.github.msm.session.MemcachedSession;
import io.github.msm.session.SessionExpiryProbe;
import io.github.msm.session.event.ExpiryWatch;
import io.github.msm.test.MemcachedServers;
import io.github.msm.test.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.context.ApplicationEvent;
import org.springframework.session.events.SessionExpiredEvent;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sticky mode's expired events are one across the fleet too: local copies are claimed
 * before they are published, a session taken over by another server is reported by that
 * one only, and sessions evicted from memory for space are watched until they expire in
 * memcached.
 */
class StickyExpiryEventsIT extends StickyITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private final MutableClock clock = new MutableClock(Duration.ZERO);

	private final List<ExpiryWatch> watches = new ArrayList<>();

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@Test
	void expiredEvents_SessionsTakenOverByAnotherServer_ShouldBeReportedOnceUnderTheirNewIds() {
		StickySessionRepository app1 = watched("app1", 1000);
		StickySessionRepository app2 = watched("app2", 1000);
		List<String> expected = new ArrayList<>();
		for (int i = 0; i < 10; i++) {
			MemcachedSession session = create(app1, "n", i);
			if (i % 2 == 0) {
				MemcachedSession taken = app2.findById(session.getId());
				taken.setLastAccessedTime(this.clock.instant());
				app2.save(taken);
				expected.add(taken.getId());
			}
			else {
				expected.add(session.getId());
			}
		}
		app1.flush();
		app2.flush();

		sweepEveryMinute(Duration.ofMinutes(40), app1, app2);

		assertThat(expiredIds()).containsExactlyInAnyOrderElementsOf(expected);
	}

	@Test
	void expiredEvents_SessionsEvictedForSpace_ShouldBeReportedOnce() {
		StickySessionRepository app1 = watched("app1", 2);
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < 6; i++) {
			ids.add(create(app1, "n", i).getId());
		}
		app1.flush();

		sweepEveryMinute(Duration.ofMinutes(40), app1);

		assertThat(expiredIds()).containsExactlyInAnyOrderElementsOf(ids);
	}

	/** Moves the shared clock on a minute at a time; each server sweeps and checks as its threads would. */
	private void sweepEveryMinute(Duration total, StickySessionRepository... servers) {
		for (long minute = 0; minute < total.toMinutes(); minute++) {
			this.clock.advance(Duration.ofMinutes(1));
			for (StickySessionRepository server : servers) {
				server.sweep();
			}
			this.watches.forEach(ExpiryWatch::check);
		}
	}

	private List<String> expiredIds() {
		return this.events.stream()
			.filter(SessionExpiredEvent.class::isInstance)
			.map((event) -> ((SessionExpiredEvent) event).getSessionId())
			.toList();
	}

	private StickySessionRepository watched(String route, int maxSessions) {
		StickySessionRepository server = server(route, this.clock);
		server.setMaxSessions(maxSessions);
		ExpiryWatch watch = new ExpiryWatch(new SessionExpiryProbe(server.memcachedRepository()), 1000,
				Duration.ofSeconds(10), server, (event) -> this.events.add((ApplicationEvent) event));
		server.setExpiryWatch(watch);
		this.watches.add(watch);
		return server;
	}

}
