package io.github.msm.session;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.github.msm.session.index.PrincipalIndex;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.node.NodeSelector;
import io.github.msm.session.serializer.ClassAllowList;
import io.github.msm.session.serializer.KryoSessionSerializer;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServers;
import io.github.msm.test.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.security.authentication.TestingAuthenticationToken;
import org.springframework.security.core.context.SecurityContextImpl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.session.FindByIndexNameSessionRepository.PRINCIPAL_NAME_INDEX_NAME;

/**
 * Finding sessions by principal name over real memcached: what the index lists after
 * logins, logouts, id changes and expiry.
 */
class IndexedSessionRepositoryIT {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private final MutableClock clock = new MutableClock(Duration.ZERO);

	private final List<MemcachedSessionRepository> repositories = new ArrayList<>();

	private MemcachedStore store;

	private IndexedMemcachedSessionRepository repository;

	private PrincipalIndex index;

	@BeforeEach
	void createRepository() {
		NodeRing ring = NodeRing.parse(List.of(memcached.nodesProperty()));
		this.store = new MemcachedStore(ring.nodes(), true, Duration.ofMillis(1000));
		this.repository = new IndexedMemcachedSessionRepository(this.store, ring,
				new KryoSessionSerializer(ClassAllowList.of(ClassAllowList.DEFAULT_PACKAGES),
						getClass().getClassLoader()));
		this.repository.setClock(this.clock);
		this.repositories.add(this.repository);
		this.index = new PrincipalIndex(this.store, new NodeSelector(ring, this.store.availability()), "",
				Duration.ofSeconds(3), () -> {
				});
	}

	@AfterEach
	void closeRepositories() {
		this.repositories.forEach(MemcachedSessionRepository::shutdown);
	}

	@Test
	void findByPrincipalName_TwoSessionsOfOneUser_ShouldFindBoth() {
		String first = loggedIn("alice");
		String second = loggedIn("alice");
		loggedIn("bob");

		assertThat(this.repository.findByPrincipalName("alice")).containsOnlyKeys(first, second);
	}

	@Test
	void findByPrincipalName_OfSpringSecurityLogin_ShouldFindTheSession() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("SPRING_SECURITY_CONTEXT",
				new SecurityContextImpl(new TestingAuthenticationToken("carol", "secret", "ROLE_USER")));
		this.repository.save(session);

		assertThat(this.repository.findByPrincipalName("carol")).containsOnlyKeys(session.getId());
	}

	@Test
	void findByIndexNameAndIndexValue_OfAnotherIndex_ShouldFindNothing() {
		loggedIn("alice");

		assertThat(this.repository.findByIndexNameAndIndexValue("colour", "alice")).isEmpty();
	}

	@Test
	void deleteById_OfSessionReadByTheRequest_ShouldRemoveItFromTheIndex() {
		String leaving = loggedIn("alice");
		String staying = loggedIn("alice");

		RequestSessionMemo.open();
		try {
			this.repository.findById(leaving);
			this.repository.deleteById(leaving);
		}
		finally {
			RequestSessionMemo.close();
		}

		assertThat(this.index.sessionIds("alice")).containsExactly(staying);
	}

	@Test
	void findByPrincipalName_OfDeletedSession_ShouldOmitAndPruneIt() {
		String deleted = loggedIn("alice");
		String staying = loggedIn("alice");
		this.repository.deleteById(deleted);

		assertThat(this.repository.findByPrincipalName("alice")).containsOnlyKeys(staying);
		assertThat(this.index.sessionIds("alice")).containsExactly(staying);
	}

	@Test
	void findByPrincipalName_OfExpiredSession_ShouldOmitAndPruneIt() {
		String expiring = loggedIn("alice");
		this.clock.advance(Duration.ofMinutes(20));
		String fresh = loggedIn("alice");
		this.clock.advance(Duration.ofMinutes(15));

		assertThat(this.repository.findByPrincipalName("alice")).containsOnlyKeys(fresh);
		assertThat(this.index.sessionIds("alice")).doesNotContain(expiring);
	}

	@Test
	void changeSessionId_ShouldListOnlyTheNewId() {
		String before = loggedIn("alice");
		MemcachedSession session = this.repository.findById(before);
		String after = session.changeSessionId();

		this.repository.save(session);

		assertThat(this.index.sessionIds("alice")).containsExactly(after);
		assertThat(this.repository.findByPrincipalName("alice")).containsOnlyKeys(after);
	}

	@Test
	void findByPrincipalName_OfSessionNowOfAnotherUser_ShouldOmitIt() {
		String id = loggedIn("alice");
		MemcachedSession session = this.repository.findById(id);
		session.setAttribute(PRINCIPAL_NAME_INDEX_NAME, "bob");
		this.repository.save(session);

		assertThat(this.repository.findByPrincipalName("alice")).isEmpty();
		assertThat(this.repository.findByPrincipalName("bob")).containsOnlyKeys(id);
	}

	private String loggedIn(String principal) {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute(PRINCIPAL_NAME_INDEX_NAME, principal);
		session.setLastAccessedTime(this.clock.instant());
		this.repository.save(session);
		return session.getId();
	}

}
