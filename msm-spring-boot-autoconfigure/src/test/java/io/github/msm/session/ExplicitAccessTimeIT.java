package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Spring Session's contract for an access time set explicitly on a session already saved
 * (ported from {@code AbstractJdbcIndexedSessionRepositoryITests}
 * {@code cleanupInactiveSessionsUsingRepositoryDefinedInterval} and
 * {@code ...SessionDefinedInterval}, gh-580): later saves of the same object honour it,
 * also back in time.
 */
class ExplicitAccessTimeIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@Test
	void save_AccessTimeSetBackByTheRepositoryInterval_ShouldExpireTheSession() {
		MemcachedSession session = this.repository.createSession();
		this.repository.save(session);
		assertThat(this.repository.findById(session.getId())).isNotNull();
		Instant now = Instant.now();

		session.setLastAccessedTime(now.minus(10, ChronoUnit.MINUTES));
		this.repository.save(session);
		assertThat(this.repository.findById(session.getId())).isNotNull();

		session.setLastAccessedTime(now.minus(30, ChronoUnit.MINUTES));
		this.repository.save(session);

		assertThat(this.repository.findById(session.getId())).isNull();
	}

	@Test
	void save_AccessTimeSetBackBySessionInterval_ShouldExpireTheSession() {
		MemcachedSession session = this.repository.createSession();
		session.setMaxInactiveInterval(Duration.ofMinutes(45));
		this.repository.save(session);
		Instant now = Instant.now();

		session.setLastAccessedTime(now.minus(40, ChronoUnit.MINUTES));
		this.repository.save(session);
		assertThat(this.repository.findById(session.getId())).isNotNull();

		session.setLastAccessedTime(now.minus(50, ChronoUnit.MINUTES));
		this.repository.save(session);

		assertThat(this.repository.findById(session.getId())).isNull();
	}

	@Test
	void save_AccessTimeSetBackOnASessionReadAgain_ShouldExpireTheSession() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("user", "alice");
		this.repository.save(session);
		MemcachedSession read = this.repository.findById(session.getId());

		read.setLastAccessedTime(Instant.now().minus(30, ChronoUnit.MINUTES));
		this.repository.save(read);

		assertThat(this.repository.findById(session.getId())).isNull();
	}

	@Test
	void save_AccessTimeSetForwardAfterBack_ShouldKeepTheSession() {
		MemcachedSession session = this.repository.createSession();
		this.repository.save(session);
		session.setLastAccessedTime(Instant.now().minus(20, ChronoUnit.MINUTES));
		this.repository.save(session);

		session.setLastAccessedTime(Instant.now());
		this.repository.save(session);

		MemcachedSession found = this.repository.findById(session.getId());
		assertThat(found).isNotNull();
		assertThat(found.getLastAccessedTime()).isAfter(Instant.now().minus(1, ChronoUnit.MINUTES));
	}

}
