package io.github.msm.session.sticky;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

import io.github.msm.session.MemcachedSession;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Spring Session's contract for an access time set explicitly on a session already saved
 * (gh-580, ported from {@code AbstractJdbcIndexedSessionRepositoryITests}), in sticky
 * mode: later saves of the same object honour it, also back in time, on the server that
 * holds the session and on another one that reads it from memcached.
 */
class StickyExplicitAccessTimeIT extends StickyITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@Test
	void save_AccessTimeSetBackByTheInterval_ShouldExpireTheSession() {
		StickySessionRepository server = server("app1");
		MemcachedSession session = server.createSession();
		server.save(session);
		Instant now = Instant.now();

		session.setLastAccessedTime(now.minus(10, ChronoUnit.MINUTES));
		server.save(session);
		assertThat(server.findById(session.getId())).isNotNull();

		session.setLastAccessedTime(now.minus(30, ChronoUnit.MINUTES));
		server.save(session);

		assertThat(server.findById(session.getId())).isNull();
	}

	@Test
	void save_AccessTimeSetBackBySessionInterval_ShouldExpireTheSessionOnAnotherServer() {
		StickySessionRepository server = server("app1");
		MemcachedSession session = server.createSession();
		session.setMaxInactiveInterval(Duration.ofMinutes(45));
		server.save(session);
		Instant now = Instant.now();

		session.setLastAccessedTime(now.minus(40, ChronoUnit.MINUTES));
		server.save(session);
		session.setLastAccessedTime(now.minus(50, ChronoUnit.MINUTES));
		server.save(session);
		server.flush();

		assertThat(server("app2").findById(session.getId())).isNull();
	}

}
