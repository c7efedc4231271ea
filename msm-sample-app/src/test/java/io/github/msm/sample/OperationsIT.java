package io.github.msm.sample;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.github.msm.test.MemcachedServers;
import io.github.msm.test.SessionHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What an operator sees of the sample app over real HTTP: the msm meters in
 * {@code /actuator/prometheus}, the {@code memcachedSession} health per node, the
 * {@code msm} endpoint, and a drained node taking no new sessions; draining takes a
 * logged-in operator and a CSRF token.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = "msm.operation-timeout=500ms")
@DirtiesContext
class OperationsIT {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static final Pattern CSRF_FIELD = Pattern.compile("name=\"_csrf\"[^>]*value=\"([^\"]+)\"");

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(3);

	@DynamicPropertySource
	static void memcachedNodes(DynamicPropertyRegistry registry) {
		registry.add("msm.nodes", memcached::nodesProperty);
	}

	@LocalServerPort
	private int port;

	@Test
	void prometheus_AfterRequests_ShouldShowTheMsmMeters() {
		ApiClient client = ApiClient.forPort(this.port);
		client.increment();
		client.session();
		ApiClient.forPort(this.port).get("/app.css");

		String prometheus = ApiClient.forPort(this.port).get("/actuator/prometheus").body();

		assertThat(prometheus).contains("msm_session_saves_total{outcome=\"written\"",
				"msm_session_saves_total{outcome=\"unchanged\"", "msm_requests_total{session=\"true\"",
				"msm_requests_total{session=\"false\"", "msm_node_up{address=\"" + memcached.node("n1").address(),
				"msm_memcached_operations_seconds_count{node=", "msm_session_size_bytes_count",
				"msm_serialization_seconds_count{direction=\"serialize\"",
				"msm_session_failover_total{kind=\"relocation\"", "msm_backup_queue ");
	}

	@Test
	void health_ShouldShowTheMemcachedSessionComponentWithEachNode() {
		JsonNode health = json("/actuator/health").path("components").path("memcachedSession");

		assertThat(health.path("status").asString()).isEqualTo("UP");
		assertThat(health.path("details").path("nodes").propertyNames()).containsExactly("n1", "n2", "n3");
		assertThat(health.path("details").path("nodes").path("n2").path("address").asString())
			.isEqualTo(memcached.node("n2").address());
		assertThat(health.path("details").path("nodes").path("n2").has("latencyMillis")).isTrue();
	}

	@Test
	void health_WhenANodeIsKilled_ShouldStayUpAndListIt() {
		memcached.node("n3").kill();

		await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
			JsonNode health = json("/actuator/health").path("components").path("memcachedSession");
			assertThat(health.path("status").asString()).isEqualTo("UP");
			assertThat(health.path("details").path("downNodes").toString()).isEqualTo("[\"n3\"]");
			assertThat(health.path("details").path("nodes").path("n3").path("status").asString()).isEqualTo("DOWN");
		});
	}

	@Test
	void msmEndpoint_ShouldListTheNodesWithTheirStats() {
		ApiClient.forPort(this.port).increment();

		JsonNode msm = json("/actuator/msm");

		assertThat(msm.path("mode").asString()).isEqualTo("non-sticky");
		assertThat(msm.path("serializer").asString()).isEqualTo("KryoSessionSerializer");
		assertThat(msm.path("nodes").findValuesAsString("id")).containsExactly("n1", "n2", "n3");
		assertThat(msm.path("nodes").get(0).path("stats").path("curr_items").isNumber()).isTrue();
		assertThat(msm.path("nodes").get(0).path("stats").has("evictions")).isTrue();
	}

	@Test
	void drain_ByALoggedInOperatorWithCsrfToken_ShouldSendNewSessionsToTheOtherNodes() {
		SessionHttpClient operator = loggedIn("operator");
		assertThat(drain(operator, "n2", "drain", true).statusCode()).isEqualTo(200);
		try {
			Set<String> nodes = new HashSet<>();
			for (int i = 0; i < 30; i++) {
				nodes.add(ApiClient.forPort(this.port).increment().node());
			}
			// n3 may have been killed by the health test before this one: any node but n2
			assertThat(nodes).contains("n1").doesNotContain("n2");
			assertThat(json("/actuator/msm").path("nodes").get(1).path("drained").asBoolean()).isTrue();
		}
		finally {
			drain(operator, "n2", "undrain", true);
		}
	}

	@Test
	void drain_Anonymous_ShouldBeRefusedAndLeaveTheNodeUndrained() {
		HttpResponse<String> response = drain(new SessionHttpClient(baseUrl()), "n2", "drain", false);

		assertThat(response.statusCode()).isNotEqualTo(200);
		assertThat(json("/actuator/msm").path("nodes").get(1).path("drained").asBoolean()).isFalse();
	}

	@Test
	void drain_ByAnOperatorWithoutCsrfToken_ShouldBeForbidden() {
		HttpResponse<String> response = drain(loggedIn("operator"), "n2", "drain", false);

		assertThat(response.statusCode()).isEqualTo(403);
		assertThat(json("/actuator/msm").path("nodes").get(1).path("drained").asBoolean()).isFalse();
	}

	@Test
	void drain_ByAUserWithoutTheOperatorRole_ShouldBeForbidden() {
		HttpResponse<String> response = drain(loggedIn("demo"), "n2", "drain", true);

		assertThat(response.statusCode()).isEqualTo(403);
	}

	@Test
	void drain_OfAnUnknownAction_ShouldBeABadRequestNamingTheValidActions() {
		HttpResponse<String> response = drain(loggedIn("operator"), "n1", "remove", true);

		assertThat(response.statusCode()).isEqualTo(400);
		assertThat(JSON.readTree(response.body()).path("actions").toString()).isEqualTo("[\"drain\",\"undrain\"]");
	}

	@Test
	void drain_OfAnUnknownNode_ShouldBeABadRequestNamingTheNodes() {
		HttpResponse<String> response = drain(loggedIn("operator"), "n9", "drain", true);

		assertThat(response.statusCode()).isEqualTo(400);
		assertThat(JSON.readTree(response.body()).path("nodes").toString()).isEqualTo("[\"n1\",\"n2\",\"n3\"]");
	}

	private String baseUrl() {
		return "http://127.0.0.1:" + this.port;
	}

	/** Logs in through the login form (the demo users' passwords are their names). */
	private SessionHttpClient loggedIn(String user) {
		SessionHttpClient client = new SessionHttpClient(baseUrl());
		Matcher csrf = CSRF_FIELD.matcher(client.get("/login").body());
		assertThat(csrf.find()).as("CSRF field on the login page").isTrue();
		HttpResponse<String> login = client.postForm("/login",
				"username=" + user + "&password=" + user + "&_csrf=" + URLEncoder.encode(csrf.group(1), StandardCharsets.UTF_8));
		assertThat(login.headers().firstValue("Location")).hasValueSatisfying(
				(location) -> assertThat(location).doesNotContain("error"));
		return client;
	}

	private HttpResponse<String> drain(SessionHttpClient client, String node, String action, boolean withCsrf) {
		Map<String, String> headers = new HashMap<>();
		if (withCsrf) {
			JsonNode token = JSON.readTree(client.get("/csrf").body());
			headers.put(token.path("headerName").asString(), token.path("token").asString());
		}
		return client.postJson("/actuator/msm/" + node, "{\"action\":\"" + action + "\"}", headers);
	}

	private JsonNode json(String path) {
		HttpResponse<String> response = ApiClient.forPort(this.port).get(path);
		assertThat(response.statusCode()).as(response.body()).isIn(200, 503);
		return JSON.readTree(response.body());
	}

}
