package io.github.msm.session;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Adversarial review of stand-ins (every node down, non-sticky): logout and login during
 * the outage, ids logged out before it, two servers' stand-ins, partial recovery.
 */
class StandInAttackIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@Test
	void logoutDuringTheOutage_ThenRecovery_ShouldStayLoggedOut() {
		MemcachedSession session = servedSession(this.repository);
		freezeAll(this.repository);
		MemcachedSession standIn = this.repository.findById(session.getId());
		assertThat(standIn).isNotNull();
		this.repository.deleteById(standIn.getId());
		// the browser still sends the old cookie (a second tab)
		MemcachedSession again = this.repository.findById(session.getId());

		memcached.all().forEach((server) -> server.resume());

		await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
			assertThat(storeOf(this.repository).availability().available()).hasSize(2);
			MemcachedSession back = this.repository.findById(session.getId());
			assertThat((Object) ((back != null) ? back.getAttribute("user") : null))
				.as("logged out during the outage (stand-in during: %s)", again != null)
				.isNull();
		});
	}

	@Test
	void idLoggedOutBeforeTheOutage_ShouldGetNoStandIn() {
		MemcachedSession session = servedSession(this.repository);
		this.repository.deleteById(session.getId());
		freezeAll(this.repository);

		assertThat(this.repository.findById(session.getId())).isNull();
	}

	@Test
	void loginDuringTheOutage_ThenRecovery_ShouldKeepTheLoginUnderTheNewIdOnly() {
		MemcachedSession session = servedSession(this.repository);
		String oldId = session.getId();
		freezeAll(this.repository);
		MemcachedSession standIn = this.repository.findById(oldId);
		String newId = standIn.changeSessionId();
		standIn.setAttribute("login", "bob");
		this.repository.save(standIn);
		String savedAs = standIn.getId();

		memcached.all().forEach((server) -> server.resume());

		await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
			assertThat(storeOf(this.repository).availability().available()).hasSize(2);
			MemcachedSession loggedIn = this.repository.findById(savedAs);
			assertThat(loggedIn).as("new id %s (changeSessionId gave %s)", savedAs, newId).isNotNull();
			assertThat((String) loggedIn.getAttribute("login")).isEqualTo("bob");
			MemcachedSession old = this.repository.findById(oldId);
			assertThat((Object) ((old != null) ? old.getAttribute("login") : null)).as("old id").isNull();
		});
		MemcachedSession second = this.repository.findById(savedAs);
		assertThat(second).as("the logged-in session %s at the next request", savedAs).isNotNull();
		MemcachedSession elsewhere = newRepository(Clock.systemUTC(), kryo(), this.registry)
			.findById(second.getId());
		assertThat(elsewhere).as("login written to memcached").isNotNull();
		assertThat((String) elsewhere.getAttribute("login")).isEqualTo("bob");
	}

	@Test
	void twoServersStandIns_ShouldBothBeMergedOnceTheNodesAnswer() {
		MemcachedSessionRepository other = newRepository(Clock.systemUTC(), kryo(), this.registry);
		MemcachedSession session = servedSession(this.repository);
		assertThat(other.findById(session.getId())).isNotNull();
		freezeAll(this.repository);
		freezeAll(other);
		MemcachedSession one = this.repository.findById(session.getId());
		one.setAttribute("cart", "book");
		this.repository.save(one);
		MemcachedSession two = other.findById(session.getId());
		two.setAttribute("wish", "pen");
		other.save(two);

		memcached.all().forEach((server) -> server.resume());
		// both servers see every node back before either merges: what is tested here is the
		// merge of two stand-ins, not a move by one server racing the other's merge
		await().atMost(Duration.ofSeconds(15)).until(() -> storeOf(this.repository).availability().available()
			.size() == 2 && storeOf(other).availability().available().size() == 2);

		await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
			MemcachedSession a = this.repository.findById(session.getId());
			MemcachedSession b = other.findById(session.getId());
			assertThat(a).isNotNull();
			assertThat(b).isNotNull();
			MemcachedSession fresh = newRepository(Clock.systemUTC(), kryo(), this.registry).findById(b.getId());
			assertThat(base(fresh)).isEqualTo(base(session));
			assertThat((String) fresh.getAttribute("user")).isEqualTo("alice");
			assertThat((String) fresh.getAttribute("cart")).isEqualTo("book");
			assertThat((String) fresh.getAttribute("wish")).isEqualTo("pen");
		});
	}

	@Test
	void partialRecovery_OnlyTheBackupNodeBack_ShouldServeTheStoredSessionWithTheStandInsChanges() {
		MemcachedSession session = servedSession(this.repository);
		freezeAll(this.repository);
		MemcachedSession standIn = this.repository.findById(session.getId());
		standIn.setAttribute("cart", "book");
		this.repository.save(standIn);

		memcached.node("n2").resume();

		await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
			MemcachedSession back = this.repository.findById(session.getId());
			assertThat(back).isNotNull();
			assertThat((String) back.getAttribute("user")).isEqualTo("alice");
			assertThat((String) back.getAttribute("cart")).isEqualTo("book");
		});
	}

	@Test
	void sessionModifiedAsEveryNodeHangs_ShouldStillBeServedDuringTheOutage() {
		MemcachedSession session = servedSession(this.repository);
		MemcachedSession read = this.repository.findById(session.getId());
		memcached.all().forEach((server) -> server.hang());
		// the first request after the hang: its write times out on both nodes
		read.setAttribute("cart", "book");
		read.setLastAccessedTime(Instant.now());
		this.repository.save(read);

		MemcachedSession next = this.repository.findById(read.getId());
		assertThat(next).as("the user's session during the outage").isNotNull();
	}

	/** A session on n1 stored and read once by the repository, with "user" = alice. */
	private MemcachedSession servedSession(MemcachedSessionRepository repository) {
		MemcachedSession session = storedOn("n1");
		this.repository.awaitBackupWrites();
		assertThat(repository.findById(session.getId())).isNotNull();
		return session;
	}

	private void freezeAll(MemcachedSessionRepository repository) {
		memcached.all().forEach((server) -> server.hang());
		await().atMost(Duration.ofSeconds(15)).until(() -> {
			repository.findById(sessionIdOn("n1"));
			repository.findById(sessionIdOn("n2"));
			return storeOf(repository).availability().available().isEmpty();
		});
	}

}
