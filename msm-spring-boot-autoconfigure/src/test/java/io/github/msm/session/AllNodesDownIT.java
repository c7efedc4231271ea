package io.github.msm.session;

import java.time.Duration;

import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Every node unreachable for a while (frozen, so their data survives): requests for
 * stored sessions get a stand-in under the same id, so the browser keeps its cookie, and
 * the stored session comes back with the stand-in's changes once its node answers.
 */
class AllNodesDownIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@Test
	void findById_WhileAllNodesAreDown_ShouldServeAStandInUnderTheSameId() {
		MemcachedSession session = servedSession();
		freezeAll();

		MemcachedSession standIn = this.repository.findById(session.getId());

		assertThat(standIn).isNotNull();
		assertThat(standIn.getId()).isEqualTo(session.getId());
		assertThat((String) standIn.getAttribute("user")).isNull();
	}

	@Test
	void findById_OnceTheNodeAnswersAgain_ShouldServeTheStoredSessionWithTheStandInsNewAttributes() {
		MemcachedSession session = servedSession();
		freezeAll();
		MemcachedSession standIn = this.repository.findById(session.getId());
		standIn.setAttribute("cart", "book");
		standIn.setAttribute("user", "mallory");
		this.repository.save(standIn);
		assertThat(standIn.getId()).isEqualTo(session.getId());

		memcached.all().forEach((server) -> server.resume());

		await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
			MemcachedSession back = this.repository.findById(session.getId());
			// the same session; on its backup node if that answered first
			assertThat(base(back)).isEqualTo(base(session));
			assertThat((String) back.getAttribute("user")).as("stored before the outage: kept").isEqualTo("alice");
			assertThat((String) back.getAttribute("cart")).isEqualTo("book");
		});
		MemcachedSession elsewhere = newRepository(java.time.Clock.systemUTC(), kryo(), this.registry)
			.findById(this.repository.findById(session.getId()).getId());
		assertThat((String) elsewhere.getAttribute("cart")).as("written to memcached").isEqualTo("book");
		assertThat(this.registry.get("msm.session.write.discarded").tag("reason", "outage").counter().count())
			.as("the stand-in's blind write of user, counted").isEqualTo(1);
	}

	@Test
	void findById_OfAnIdThisServerNeverServed_WhileAllNodesAreDown_ShouldBeNull() {
		String madeUp = sessionIdOn("n1");
		servedSession();
		freezeAll();

		assertThat(this.repository.findById(madeUp)).isNull();
	}

	@Test
	void findById_WhenTheNodeCameBackEmpty_ShouldMoveTheStandInToANewId() {
		MemcachedSession session = servedSession();
		freezeAll();
		MemcachedSession standIn = this.repository.findById(session.getId());
		standIn.setAttribute("cart", "book");
		this.repository.save(standIn);

		memcached.all().forEach((server) -> server.restart());

		await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
			MemcachedSession moved = this.repository.findById(session.getId());
			assertThat(moved).isNotNull();
			assertThat(moved.getId()).isNotEqualTo(session.getId());
			assertThat((String) moved.getAttribute("cart")).isEqualTo("book");
		});
	}

	@Test
	void save_OfASessionReadBeforeTheOutage_ShouldBeWrittenOnceItsNodeAnswers() {
		MemcachedSession session = servedSession();
		MemcachedSession read = this.repository.findById(session.getId());
		freezeAll();
		read.setAttribute("user", "bob");
		read.removeAttribute("none");
		this.repository.save(read);
		assertThat(read.getId()).as("keeps its id").isEqualTo(session.getId());
		assertThat((String) this.repository.findById(session.getId()).getAttribute("user"))
			.as("served from this server's memory meanwhile").isEqualTo("bob");

		memcached.all().forEach((server) -> server.resume());

		await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
			MemcachedSession back = this.repository.findById(session.getId());
			assertThat(base(back)).isEqualTo(base(session));
			MemcachedSession elsewhere = newRepository(java.time.Clock.systemUTC(), kryo(), this.registry)
				.findById(back.getId());
			assertThat((String) elsewhere.getAttribute("user")).as("written to memcached").isEqualTo("bob");
		});
	}

	/** A session stored and read once by this server, with "user" = alice. */
	private MemcachedSession servedSession() {
		MemcachedSession session = storedOn("n1");
		this.repository.awaitBackupWrites();
		assertThat(this.repository.findById(session.getId())).isNotNull();
		return session;
	}

	/** Freezes every node and waits until the repository sees none up. */
	private void freezeAll() {
		memcached.all().forEach((server) -> server.hang());
		await().atMost(Duration.ofSeconds(15)).until(() -> {
			this.repository.findById(sessionIdOn("n1"));
			this.repository.findById(sessionIdOn("n2"));
			return storeOf(this.repository).availability().available().isEmpty();
		});
	}

}
