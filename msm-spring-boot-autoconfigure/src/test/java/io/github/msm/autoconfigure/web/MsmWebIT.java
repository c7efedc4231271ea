package io.github.msm.autoconfigure.web;

import java.io.IOException;
import java.net.CookieManager;
import java.net.HttpCookie;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.test.MemcachedServer;
import io.github.msm.test.MemcachedServers;
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
 * The starter in a real web application, over real HTTP, with real memcached: what a
 * user of the starter gets, and what each request costs in memcached operations.
 */
@SpringBootTest(classes = CounterApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class MsmWebIT {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@DynamicPropertySource
	static void memcachedNodes(DynamicPropertyRegistry registry) {
		registry.add("msm.nodes", memcached::nodesProperty);
	}

	@LocalServerPort
	int port;

	@Autowired
	MemcachedSessionRepository repository;

	private final CookieManager cookies = new CookieManager();

	private HttpClient client;

	@BeforeEach
	void createClient() {
		this.client = HttpClient.newBuilder().cookieHandler(this.cookies).build();
	}

	@Test
	void counter_ShouldSurviveAcrossRequestsInMemcached() throws Exception {
		post("/counter");
		post("/counter");
		String[] answer = post("/counter").split(" ");

		assertThat(answer[1]).isEqualTo("3");
		assertThat(memcached.node(this.repository.nodeIdOf(answer[0])).get(answer[0])).isNotNull();
	}

	@Test
	void sessionCookie_ShouldCarryThePlainSessionId() throws Exception {
		String id = post("/counter").split(" ")[0];

		assertThat(sessionCookie()).isEqualTo(id);
		assertThat(id).matches("[0-9a-f]{32}-n[12]");
	}

	@Test
	void readOnlyRequest_ShouldCostOneRoundTripAndOneSmallWrite() throws Exception {
		String id = post("/counter").split(" ")[0];
		awaitBackup(id);
		memcached.resetStats();

		get("/counter");

		MemcachedServer primary = memcached.node(this.repository.nodeIdOf(id));
		assertThat(primary.stat("cmd_get")).as("gets (data + validity, pipelined)").isEqualTo(2);
		assertThat(primary.stat("cmd_set")).as("sets (validity)").isEqualTo(1);
		assertThat(primary.stat("cmd_touch")).isZero();
		await().untilAsserted(() -> assertThat(backupOf(id).stat("cmd_set")).as("backup sets").isEqualTo(1));
		assertThat(backupOf(id).stat("cmd_get")).isZero();
	}

	@Test
	void modifyingRequest_ShouldCostOneRoundTripAndOneWrite() throws Exception {
		String id = post("/counter").split(" ")[0];
		awaitBackup(id);
		memcached.resetStats();

		post("/counter");

		MemcachedServer primary = memcached.node(this.repository.nodeIdOf(id));
		assertThat(primary.stat("cmd_get")).isEqualTo(2);
		assertThat(primary.stat("cmd_set")).isEqualTo(1);
		await().untilAsserted(() -> assertThat(backupOf(id).stat("cmd_set")).isEqualTo(1));
	}

	@Test
	void requestWithoutSessionThatNeverUsesIt_ShouldCostNothing() throws Exception {
		assertThat(get("/hello")).isEqualTo("hello");

		assertThat(memcached.stat("cmd_get") + memcached.stat("cmd_set") + memcached.stat("cmd_touch")).isZero();
		assertThat(this.cookies.getCookieStore().getCookies()).isEmpty();
	}

	@Test
	void mvcRequestWithSessionCookie_ShouldCostNoMoreThanAReadOnlyRequest() throws Exception {
		// Spring MVC's SessionFlashMapManager looks at the session of every request that has one
		String id = post("/counter").split(" ")[0];
		awaitBackup(id);
		memcached.resetStats();

		assertThat(get("/hello")).isEqualTo("hello");

		MemcachedServer primary = memcached.node(this.repository.nodeIdOf(id));
		assertThat(primary.stat("cmd_get")).isEqualTo(2);
		assertThat(primary.stat("cmd_set")).isEqualTo(1);
	}

	@Test
	void mutableAttributeChangedInPlace_ShouldBePersisted() throws Exception {
		get("/cart");
		get("/cart");

		assertThat(get("/cart")).isEqualTo("3");
	}

	@Test
	void changeSessionId_ShouldSendNewCookieAndKillOldId() throws Exception {
		String before = post("/counter").split(" ")[0];
		String after = post("/login");

		assertThat(after).isNotEqualTo(before).endsWith(before.substring(32));
		assertThat(sessionCookie()).isEqualTo(after);
		assertThat(this.repository.findById(before)).isNull();
		assertThat(get("/counter")).isEqualTo(after + " 1");
	}

	@Test
	void hostileCookie_ShouldGetAFreshSessionWithoutMemcachedCalls() throws Exception {
		HttpResponse<String> response = this.client.send(
				HttpRequest.newBuilder(uri("/counter")).header("Cookie", "SESSION=../../x%0d%0aflush_all").GET().build(),
				HttpResponse.BodyHandlers.ofString());

		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.body()).endsWith(" null");
		assertThat(memcached.stat("cmd_get")).isZero();
	}

	@Test
	void unknownSessionCookie_ShouldGetAFreshSession() throws Exception {
		HttpResponse<String> response = this.client.send(HttpRequest.newBuilder(uri("/counter"))
			.header("Cookie", "SESSION=0123456789abcdef0123456789abcdef-n1")
			.POST(HttpRequest.BodyPublishers.noBody())
			.build(), HttpResponse.BodyHandlers.ofString());

		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.body()).endsWith(" 1").doesNotStartWith("0123456789abcdef0123456789abcdef");
	}

	private MemcachedServer backupOf(String id) {
		return memcached.node(this.repository.nodeIdOf(id).equals("n1") ? "n2" : "n1");
	}

	private void awaitBackup(String id) {
		await().until(() -> backupOf(id).stat("curr_items") >= 1);
	}

	private String sessionCookie() {
		return this.cookies.getCookieStore()
			.getCookies()
			.stream()
			.filter((cookie) -> cookie.getName().equals("SESSION"))
			.map(HttpCookie::getValue)
			.findFirst()
			.orElseThrow();
	}

	private String get(String path) throws IOException, InterruptedException {
		return send(HttpRequest.newBuilder(uri(path)).GET().build());
	}

	private String post(String path) throws IOException, InterruptedException {
		return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.noBody()).build());
	}

	private String send(HttpRequest request) throws IOException, InterruptedException {
		HttpResponse<String> response = this.client.send(request, HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).as("status of %s", request.uri()).isEqualTo(200);
		return response.body();
	}

	private URI uri(String path) {
		return URI.create("http://127.0.0.1:" + this.port + path);
	}

}
