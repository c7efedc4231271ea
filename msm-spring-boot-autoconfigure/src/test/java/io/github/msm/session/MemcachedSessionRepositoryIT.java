package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The behaviours every Spring Session repository must hold (shared/reference
 * spring-session.md §5), against real memcached servers.
 */
class MemcachedSessionRepositoryIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	// 1 round trip

	@Test
	void findById_SavedSession_ShouldHaveIdAttributesAndTimes() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("name", "value");
		session.setAttribute("number", 42);
		this.repository.save(session);

		MemcachedSession found = this.repository.findById(session.getId());

		assertThat(found).isNotNull();
		assertThat(found.getId()).isEqualTo(session.getId());
		assertThat(found.getAttributeNames()).containsExactlyInAnyOrder("name", "number");
		assertThat((String) found.getAttribute("name")).isEqualTo("value");
		assertThat((Integer) found.getAttribute("number")).isEqualTo(42);
		assertThat(found.getCreationTime()).isEqualTo(session.getCreationTime().truncatedTo(ChronoUnit.MILLIS));
		assertThat(found.getMaxInactiveInterval()).isEqualTo(Duration.ofMinutes(30));
	}

	@Test
	void createSession_ShouldUseConfiguredDefaultInterval() {
		this.repository.setDefaultMaxInactiveInterval(Duration.ofMinutes(5));
		MemcachedSession session = this.repository.createSession();
		this.repository.save(session);

		assertThat(this.repository.findById(session.getId()).getMaxInactiveInterval())
			.isEqualTo(Duration.ofMinutes(5));
	}

	@Test
	void createSession_ShouldPutNodeIdIntoSessionId() {
		assertThat(this.repository.createSession().getId()).matches("[0-9a-f]{32}-n[12]");
	}

	// 2

	@Test
	void findById_SessionWithoutAttributes_ShouldBeFound() {
		MemcachedSession session = this.repository.createSession();
		this.repository.save(session);

		assertThat(this.repository.findById(session.getId())).isNotNull();
	}

	// 3

	@Test
	void findById_ExpiredSession_ShouldReturnNullAndRemoveIt() {
		MemcachedSession session = this.repository.createSession();
		session.setLastAccessedTime(Instant.now().minus(Duration.ofMinutes(31)));
		this.repository.save(session);

		assertThat(this.repository.findById(session.getId())).isNull();
		await().untilAsserted(
				() -> assertThat(memcached.node(this.repository.nodeIdOf(session.getId())).get(session.getId())).isNull());
	}

	// 4

	@Test
	void findById_NegativeInterval_ShouldNeverExpire() {
		MemcachedSession session = this.repository.createSession();
		session.setMaxInactiveInterval(Duration.ofSeconds(-1));
		session.setLastAccessedTime(Instant.now().minus(Duration.ofDays(400)));
		this.repository.save(session);

		assertThat(this.repository.findById(session.getId())).isNotNull();
	}

	@Test
	void findById_ZeroInterval_ShouldNeverExpire() {
		MemcachedSession session = this.repository.createSession();
		session.setMaxInactiveInterval(Duration.ZERO);
		session.setLastAccessedTime(Instant.now().minus(Duration.ofDays(400)));
		this.repository.save(session);

		assertThat(this.repository.findById(session.getId())).isNotNull();
	}

	// 5

	@Test
	void save_NewLastAccessedTime_ShouldExtendLife() {
		MemcachedSession session = this.repository.createSession();
		session.setMaxInactiveInterval(Duration.ofMinutes(10));
		session.setLastAccessedTime(Instant.now().minus(Duration.ofMinutes(9)));
		this.repository.save(session);
		MemcachedSession read = this.repository.findById(session.getId());
		read.setLastAccessedTime(Instant.now());
		this.repository.save(read);

		MemcachedSession found = this.repository.findById(session.getId());
		assertThat(found).isNotNull();
		assertThat(found.getLastAccessedTime()).isAfter(Instant.now().minus(Duration.ofMinutes(1)));
		assertThat(found.isExpired()).isFalse();
	}

	// 6

	@Test
	void save_OneAttributeAdded_ShouldKeepTheOthers() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("a", "1");
		session.setAttribute("b", "2");
		this.repository.save(session);
		MemcachedSession read = this.repository.findById(session.getId());
		read.setAttribute("c", "3");
		this.repository.save(read);

		MemcachedSession found = this.repository.findById(session.getId());
		assertThat(found.getAttributeNames()).containsExactlyInAnyOrder("a", "b", "c");
		assertThat((String) found.getAttribute("a")).isEqualTo("1");
	}

	// 7

	@Test
	void save_AttributeAddedThenModified_ShouldStoreLastValue() {
		MemcachedSession session = saved();
		MemcachedSession read = this.repository.findById(session.getId());
		read.setAttribute("k", "first");
		read.setAttribute("k", "second");
		this.repository.save(read);

		assertThat((String) this.repository.findById(session.getId()).getAttribute("k")).isEqualTo("second");
	}

	@Test
	void save_AttributeAddedThenRemoved_ShouldStoreNothing() {
		MemcachedSession session = saved();
		MemcachedSession read = this.repository.findById(session.getId());
		read.setAttribute("k", "v");
		read.removeAttribute("k");
		this.repository.save(read);

		assertThat(this.repository.findById(session.getId()).getAttributeNames()).isEmpty();
	}

	@Test
	void save_StoredAttributeRemoved_ShouldBeGone() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("k", "v");
		session.setAttribute("other", "o");
		this.repository.save(session);
		MemcachedSession read = this.repository.findById(session.getId());
		read.removeAttribute("k");
		this.repository.save(read);

		assertThat(this.repository.findById(session.getId()).getAttributeNames()).containsExactly("other");
	}

	@Test
	void save_AttributeSetToNull_ShouldRemoveIt() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("k", "v");
		this.repository.save(session);
		MemcachedSession read = this.repository.findById(session.getId());
		read.setAttribute("k", null);
		this.repository.save(read);

		assertThat(this.repository.findById(session.getId()).getAttributeNames()).isEmpty();
	}

	@Test
	void save_AttributeRemovedThenAdded_ShouldStoreNewValue() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("k", "old");
		this.repository.save(session);
		MemcachedSession read = this.repository.findById(session.getId());
		read.removeAttribute("k");
		read.setAttribute("k", "new");
		this.repository.save(read);

		assertThat((String) this.repository.findById(session.getId()).getAttribute("k")).isEqualTo("new");
	}

	@Test
	void save_MutableAttributeChangedInPlace_ShouldPersistTheChange() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("cart", new ArrayList<>(List.of("apple")));
		this.repository.save(session);
		MemcachedSession read = this.repository.findById(session.getId());
		List<String> cart = read.getAttribute("cart");
		cart.add("pear");
		this.repository.save(read);

		List<String> stored = this.repository.findById(session.getId()).getAttribute("cart");
		assertThat(stored).containsExactly("apple", "pear");
	}

	// 8

	@Test
	void save_ConcurrentChangesOfDifferentAttributes_ShouldKeepBoth() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("attr1", "1");
		this.repository.save(session);
		MemcachedSession copy1 = this.repository.findById(session.getId());
		MemcachedSession copy2 = this.repository.findById(session.getId());
		copy1.setAttribute("attr2", "2");
		this.repository.save(copy1);
		copy2.setAttribute("attr3", "3");
		this.repository.save(copy2);

		MemcachedSession found = this.repository.findById(session.getId());
		assertThat(found.getAttributeNames()).containsExactlyInAnyOrder("attr1", "attr2", "attr3");
		assertThat(this.registry.counter("msm.session.saves", "outcome", "conflict-retried").count()).isEqualTo(1);
	}

	@Test
	void save_ConcurrentRemoveAndAdd_ShouldApplyBoth() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("a", "1");
		session.setAttribute("b", "2");
		this.repository.save(session);
		MemcachedSession copy1 = this.repository.findById(session.getId());
		MemcachedSession copy2 = this.repository.findById(session.getId());
		copy1.removeAttribute("a");
		this.repository.save(copy1);
		copy2.setAttribute("c", "3");
		this.repository.save(copy2);

		assertThat(this.repository.findById(session.getId()).getAttributeNames()).containsExactlyInAnyOrder("b", "c");
	}

	// 9

	@Test
	void changeSessionId_OnlyIdChanged_ShouldMoveSessionAndKillOldId() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("k", "v");
		this.repository.save(session);
		String oldId = session.getId();
		MemcachedSession read = this.repository.findById(oldId);
		String newId = read.changeSessionId();
		this.repository.save(read);

		assertThat(newId).isNotEqualTo(oldId);
		assertThat(this.repository.findById(oldId)).isNull();
		assertThat((String) this.repository.findById(newId).getAttribute("k")).isEqualTo("v");
	}

	@Test
	void changeSessionId_ShouldKeepTheNode() {
		MemcachedSession session = saved();
		MemcachedSession read = this.repository.findById(session.getId());
		read.changeSessionId();

		assertThat(this.repository.nodeIdOf(read.getId())).isEqualTo(this.repository.nodeIdOf(session.getId()));
	}

	@Test
	void changeSessionId_WithAttributeChange_ShouldStoreBoth() {
		MemcachedSession session = saved();
		MemcachedSession read = this.repository.findById(session.getId());
		read.changeSessionId();
		read.setAttribute("k", "changed");
		this.repository.save(read);

		assertThat((String) this.repository.findById(read.getId()).getAttribute("k")).isEqualTo("changed");
		assertThat(this.repository.findById(session.getId())).isNull();
	}

	@Test
	void changeSessionId_TwiceBeforeSave_ShouldLeaveOnlyLastIdReadable() {
		MemcachedSession session = saved();
		MemcachedSession read = this.repository.findById(session.getId());
		String intermediate = read.changeSessionId();
		String last = read.changeSessionId();
		this.repository.save(read);

		assertThat(this.repository.findById(session.getId())).isNull();
		assertThat(this.repository.findById(intermediate)).isNull();
		assertThat(this.repository.findById(last)).isNotNull();
	}

	@Test
	void changeSessionId_OnNewUnsavedSession_ShouldStoreUnderNewId() {
		MemcachedSession session = this.repository.createSession();
		String first = session.getId();
		session.setAttribute("k", "v");
		session.changeSessionId();
		this.repository.save(session);

		assertThat(this.repository.findById(first)).isNull();
		assertThat((String) this.repository.findById(session.getId()).getAttribute("k")).isEqualTo("v");
	}

	@Test
	void changeSessionId_SavedTwice_ShouldStayFindable() {
		MemcachedSession session = saved();
		MemcachedSession read = this.repository.findById(session.getId());
		read.changeSessionId();
		this.repository.save(read);
		this.repository.save(read);

		assertThat(this.repository.findById(read.getId())).isNotNull();
		assertThat(this.repository.findById(session.getId())).isNull();
	}

	// 10

	@Test
	void changeSessionId_ConcurrentlyInTwoRequests_ShouldLetOnlyTheFirstWin() {
		MemcachedSession session = saved();
		MemcachedSession copy1 = this.repository.findById(session.getId());
		MemcachedSession copy2 = this.repository.findById(session.getId());
		copy1.changeSessionId();
		this.repository.save(copy1);
		copy2.changeSessionId();
		this.repository.save(copy2);

		assertThat(this.repository.findById(copy1.getId())).isNotNull();
		assertThat(this.repository.findById(copy2.getId())).isNull();
		assertThat(this.repository.findById(session.getId())).isNull();
	}

	// 11

	@Test
	void save_AfterSessionWasDeleted_ShouldNotResurrectIt() {
		MemcachedSession session = saved();
		MemcachedSession read = this.repository.findById(session.getId());
		this.repository.deleteById(session.getId());
		read.setAttribute("k", "late");
		this.repository.save(read);

		assertThat(this.repository.findById(session.getId())).isNull();
	}

	@Test
	void save_ReadOnlyAfterSessionWasDeleted_ShouldNotResurrectIt() {
		MemcachedSession session = saved();
		MemcachedSession read = this.repository.findById(session.getId());
		this.repository.deleteById(session.getId());
		read.setLastAccessedTime(Instant.now().plusSeconds(1));
		this.repository.save(read);

		assertThat(this.repository.findById(session.getId())).isNull();
	}

	// 12

	@Test
	void deleteById_ShouldRemoveSession() {
		MemcachedSession session = saved();
		this.repository.deleteById(session.getId());

		assertThat(this.repository.findById(session.getId())).isNull();
	}

	@Test
	void deleteById_Twice_ShouldNotFail() {
		MemcachedSession session = saved();
		this.repository.deleteById(session.getId());
		this.repository.deleteById(session.getId());

		assertThat(this.repository.findById(session.getId())).isNull();
	}

	@Test
	void deleteById_UnknownId_ShouldNotFail() {
		this.repository.deleteById("0123456789abcdef0123456789abcdef-n1");

		assertThat(this.repository.findById("0123456789abcdef0123456789abcdef-n1")).isNull();
	}

	// 16

	@Test
	void findById_ShouldReturnSessionWithoutChanges() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("k", "v");
		this.repository.save(session);

		MemcachedSession found = this.repository.findById(session.getId());

		SessionChanges changes = found.changes();
		assertThat(changes.setAttributes()).isEmpty();
		assertThat(changes.access()).isNull();
		assertThat(changes.changesData()).isFalse();
	}

	// 17

	@Test
	void save_LargeAttribute_ShouldSurvive() {
		MemcachedSession session = this.repository.createSession();
		byte[] large = new byte[600_000];
		new java.util.Random(1).nextBytes(large);
		session.setAttribute("large", large);
		this.repository.save(session);

		byte[] found = this.repository.findById(session.getId()).getAttribute("large");
		assertThat(found).isEqualTo(large);
	}

	private MemcachedSession saved() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("k", "v");
		this.repository.save(session);
		return session;
	}

}
