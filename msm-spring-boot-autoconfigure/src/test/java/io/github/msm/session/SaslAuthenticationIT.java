package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.storage.ConnectionSettings;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.SaslMemcachedServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The repository against memcached started with SASL ({@code -S}): the right credentials
 * give a working store whose probe (which reads {@code stats}) authenticates too; a wrong
 * password gives a down node with a reason that names the properties, within the
 * operation timeout, and the password shows nowhere in the log.
 */
@ExtendWith(OutputCaptureExtension.class)
class SaslAuthenticationIT {

	private static final String USERNAME = "msmuser";

	private static final String PASSWORD = "Pa55-w0rd-never-logged";

	private static final String WRONG_PASSWORD = "Wr0ng-pa55-never-logged";

	@RegisterExtension
	static final SaslMemcachedServer memcached = SaslMemcachedServer.withUser(USERNAME, PASSWORD);

	@Test
	void findById_WithTheRightCredentials_ShouldReadWhatWasSaved() {
		try (Repository repository = repository(PASSWORD)) {
			MemcachedSession session = repository.sessions().createSession();
			session.setAttribute("user", "alice");
			repository.sessions().save(session);

			assertThat(repository.sessions().findById(session.getId()).<String>getAttribute("user")).isEqualTo("alice");
		}
	}

	@Test
	void probe_WithTheRightCredentials_ShouldReadStatsAndKeepTheNodeUp() {
		try (Repository repository = repository(PASSWORD)) {
			MemcachedNode node = repository.node();
			Instant afterTwoProbes = Instant.now().plus(Duration.ofSeconds(9));

			await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
				assertThat(repository.store().availability().status(node).lastError()).isNull();
				assertThat(Instant.now()).isAfter(afterTwoProbes);
			});
			assertThat(repository.store().availability().isAvailable(node)).isTrue();
			// stats settings went over the authenticated connection
			assertThat(repository.store().serverItemSizeMax()).hasValue(1024 * 1024);
		}
	}

	@Test
	void store_WithAWrongPassword_ShouldMarkTheNodeDownNamingTheProperties() {
		Instant start = Instant.now();
		try (Repository repository = repository(WRONG_PASSWORD)) {
			MemcachedNode node = repository.node();
			// no hang: the store is there and the node down within the operation timeout or so
			assertThat(Duration.between(start, Instant.now())).isLessThan(Duration.ofSeconds(3));
			assertThat(repository.store().availability().isAvailable(node)).isFalse();

			Instant lookup = Instant.now();
			assertThat(repository.sessions().findById("0123456789abcdef0123456789abcdef")).isNull();
			assertThat(Duration.between(lookup, Instant.now())).isLessThan(Duration.ofSeconds(1));
			// the probe's reason, whether it found the connection closed or its request cancelled
			await().atMost(Duration.ofSeconds(3))
				.untilAsserted(() -> assertThat(repository.store().availability().status(node).lastError())
					.contains("SASL authentication as 'msmuser'")
					.contains("msm.username and msm.password"));
		}
	}

	@Test
	void log_WithRightOrWrongPassword_ShouldNeverShowThePassword(CapturedOutput output) {
		try (Repository right = repository(PASSWORD); Repository wrong = repository(WRONG_PASSWORD)) {
			MemcachedSession session = right.sessions().createSession();
			session.setAttribute("user", "alice");
			right.sessions().save(session);
			wrong.sessions().save(wrong.sessions().createSession());
			// a few reconnect and probe rounds of the refused store
			await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
				.untilAsserted(() -> assertThat(output.getAll()).contains("msm.username and msm.password"));
			assertThat(right.store().toString() + wrong.store().toString()).doesNotContain(PASSWORD, WRONG_PASSWORD);
		}

		assertThat(output.getAll()).doesNotContain(PASSWORD).doesNotContain(WRONG_PASSWORD);
	}

	@Test
	void toString_OfSettingsWithCredentials_ShouldHideThePassword() {
		ConnectionSettings settings = ConnectionSettings.of(true, Duration.ofSeconds(1)).withCredentials(USERNAME,
				PASSWORD);

		assertThat(settings.toString()).contains(USERNAME).doesNotContain(PASSWORD);
	}

	private static Repository repository(String password) {
		NodeRing ring = NodeRing.parse(List.of(memcached.address()));
		MemcachedStore store = new MemcachedStore(ring.nodes(),
				ConnectionSettings.of(true, Duration.ofMillis(1000)).withCredentials(USERNAME, password));
		return new Repository(new MemcachedSessionRepository(store, ring, RepositoryITSupport.kryo()), store,
				ring.nodes().get(0));
	}

	private record Repository(MemcachedSessionRepository sessions, MemcachedStore store,
			MemcachedNode node) implements AutoCloseable {

		@Override
		public void close() {
			this.sessions.shutdown();
		}

	}

}
