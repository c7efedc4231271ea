package io.github.msm.sample;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import io.github.msm.test.MemcachedServers;
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
 * {@code msm} endpoint, and a drained node taking no new sessions.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = "msm.operation-timeout=500ms")
@DirtiesContext
class OperationsIT {

	private static final JsonMapper JSON = JsonMapper.builder().build();

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
	void drain_ShouldSendNewSessionsToTheOtherNodes() throws Exception {
		assertThat(drain("n2", "drain")).isEqualTo(200);
		try {
			Set<String> nodes = new HashSet<>();
			for (int i = 0; i < 30; i++) {
				nodes.add(ApiClient.forPort(this.port).increment().node());
			}
			assertThat(nodes).containsExactlyInAnyOrder("n1", "n3");
			assertThat(json("/actuator/msm").path("nodes").get(1).path("drained").asBoolean()).isTrue();
		}
		finally {
			drain("n2", "undrain");
		}
	}

	@Test
	void drain_OfAnUnknownNodeOrAction_ShouldBeABadRequest() throws Exception {
		assertThat(drain("n9", "drain")).isEqualTo(400);
		assertThat(drain("n1", "remove")).isEqualTo(400);
	}

	private int drain(String node, String action) throws Exception {
		HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + "/actuator/msm/" + node))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString("{\"action\":\"" + action + "\"}"))
			.build();
		return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString()).statusCode();
	}

	private JsonNode json(String path) {
		HttpResponse<String> response = ApiClient.forPort(this.port).get(path);
		assertThat(response.statusCode()).as(response.body()).isIn(200, 503);
		return JSON.readTree(response.body());
	}

}
