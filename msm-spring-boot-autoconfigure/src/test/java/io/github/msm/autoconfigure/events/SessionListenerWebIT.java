package io.github.msm.autoconfigure.events;

import java.time.Duration;

import io.github.msm.autoconfigure.events.ListenerApplication.SessionLog;
import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.test.MemcachedServers;
import io.github.msm.test.SessionHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Non-sticky mode in a real web application: an {@code HttpSessionListener} bean hears
 * of sessions created, invalidated and expired, through Spring Session's
 * {@code SessionEventHttpSessionListenerAdapter}.
 */
@SpringBootTest(classes = ListenerApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = "msm.events.check-interval=200ms")
class SessionListenerWebIT {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@DynamicPropertySource
	static void memcachedNodes(DynamicPropertyRegistry registry) {
		registry.add("msm.nodes", memcached::nodesProperty);
	}

	@LocalServerPort
	int port;

	@Autowired
	SessionLog log;

	@Autowired
	MemcachedSessionRepository repository;

	private SessionHttpClient client;

	@BeforeEach
	void createClient() {
		this.client = SessionHttpClient.forPort(this.port);
		this.log.created.clear();
		this.log.destroyed.clear();
	}

	@AfterEach
	void awaitBackupWrites() {
		this.repository.awaitBackupWrites();
	}

	@Test
	void login_ShouldTellTheListenerOfTheNewSession() {
		String id = this.client.post("/login").body();

		assertThat(this.log.created).containsExactly(id);
	}

	@Test
	void logout_ShouldTellTheListenerTheSessionIsDestroyed() {
		String id = this.client.post("/login").body();

		assertThat(this.client.post("/logout").body()).isEqualTo(id);

		assertThat(this.log.destroyed).containsExactly(id);
	}

	@Test
	void idleSession_ShouldBeDestroyedOnceWhenItExpires() {
		String id = this.client.post("/login?maxInactiveSeconds=1").body();

		await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(this.log.destroyed).contains(id));
		assertThat(this.log.destroyed).containsOnlyOnce(id);
	}

}
