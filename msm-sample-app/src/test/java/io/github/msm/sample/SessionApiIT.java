package io.github.msm.sample;

import java.net.http.HttpResponse;

import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

/**
 * The JSON API over real HTTP, with the sessions in real memcached processes.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = "app.instance=app1")
@DirtiesContext
class SessionApiIT {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@DynamicPropertySource
	static void memcachedNodes(DynamicPropertyRegistry registry) {
		registry.add("msm.nodes", memcached::nodesProperty);
	}

	@LocalServerPort
	private int port;

	private ApiClient client;

	@BeforeEach
	void newClient() {
		this.client = ApiClient.forPort(this.port);
	}

	@Test
	void getSession_WhenNoCookie_ShouldCreateSessionOnAMemcachedNode() {
		SessionView session = this.client.session();

		assertThat(session.sessionId()).matches("[0-9a-f]{32}-n[12]");
		assertThat(session.node()).isIn("n1", "n2");
		assertThat(session.sessionId()).endsWith("-" + session.node());
		assertThat(session.nodesDown()).isEmpty();
		assertThat(session.instance()).isEqualTo("app1");
		assertThat(session.counter()).isZero();
		assertThat(session.attributes()).isEmpty();
		assertThat(session.user()).isNull();
		assertThat(this.client.sessionCookie()).isEqualTo(session.sessionId());
	}

	@Test
	void getSession_WithSessionCookie_ShouldReturnTheSameSession() {
		SessionView first = this.client.session();

		SessionView second = this.client.session();

		assertThat(second.sessionId()).isEqualTo(first.sessionId());
	}

	@Test
	void postCounter_ShouldIncrementAndStoreTheSessionInMemcached() {
		this.client.increment();
		this.client.increment();
		SessionView session = this.client.increment();

		assertThat(session.counter()).isEqualTo(3);
		assertThat(this.client.session().counter()).isEqualTo(3);
		assertThat(memcached.node(session.node()).get(session.sessionId())).isNotNull();
	}

	@Test
	void putAttribute_ShouldSetTheBodyAsTextAttribute() {
		SessionView session = ApiClient.view(this.client.put("/api/attributes/colour", "blue"));

		assertThat(session.attributes()).containsExactly(entry("colour", "blue"));
		assertThat(this.client.session().attributes()).containsEntry("colour", "blue");
	}

	@Test
	void deleteAttribute_ShouldRemoveTheAttribute() {
		this.client.put("/api/attributes/colour", "blue");
		this.client.put("/api/attributes/size", "large");

		SessionView session = ApiClient.view(this.client.delete("/api/attributes/colour"));

		assertThat(session.attributes()).containsOnlyKeys("size");
		assertThat(this.client.session().attributes()).containsOnlyKeys("size");
	}

	@Test
	void putAttribute_WhenNameIsReserved_ShouldAnswerBadRequest() {
		HttpResponse<String> response = this.client.put("/api/attributes/counter", "not a number");

		assertThat(response.statusCode()).isEqualTo(400);
		assertThat(this.client.session().counter()).isZero();
	}

	@Test
	void deleteSession_ShouldInvalidateTheSessionAndRemoveItFromMemcached() {
		SessionView before = this.client.increment();

		HttpResponse<String> response = this.client.delete("/api/session");

		assertThat(response.statusCode()).isEqualTo(204);
		// a tombstone (2 bytes, 'T') replaces it, so that no late write brings it back
		assertThat(memcached.node(before.node()).get(before.sessionId())).hasSize(2).startsWith((byte) 'T');
		SessionView after = this.client.session();
		assertThat(after.sessionId()).isNotEqualTo(before.sessionId());
		assertThat(after.counter()).isZero();
	}

	@Test
	void page_WhenNotLoggedIn_ShouldRedirectToLogin() {
		HttpResponse<String> response = this.client.get("/");

		assertThat(response.statusCode()).isEqualTo(302);
		assertThat(response.headers().firstValue("Location")).hasValueSatisfying(
				(location) -> assertThat(location).endsWith("/login"));
	}

	@Test
	void actuator_ShouldAnswerHealthAndPrometheusWithoutLogin() {
		HttpResponse<String> health = this.client.get("/actuator/health");
		HttpResponse<String> prometheus = this.client.get("/actuator/prometheus");

		assertThat(health.statusCode()).isEqualTo(200);
		assertThat(health.body()).contains("\"status\":\"UP\"");
		assertThat(prometheus.statusCode()).isEqualTo(200);
		assertThat(prometheus.body()).contains("jvm_memory_used_bytes");
	}

}
