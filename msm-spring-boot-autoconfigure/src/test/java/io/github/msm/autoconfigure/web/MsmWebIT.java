package io.github.msm.autoconfigure.web;

import java.net.http.HttpResponse;

import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.test.MemcachedServer;
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

	private SessionHttpClient client;

	@BeforeEach
	void createClient() {
		this.client = SessionHttpClient.forPort(this.port);
	}

	/** Before the servers are cleared: no backup write of this test may land in the next. */
	@AfterEach
	void awaitBackupWrites() {
		this.repository.awaitBackupWrites();
	}

	@Test
	void counter_ShouldSurviveAcrossRequestsInMemcached() {
		post("/counter");
		post("/counter");
		String[] answer = post("/counter").split(" ");

		assertThat(answer[1]).isEqualTo("3");
		assertThat(memcached.node(this.repository.nodeIdOf(answer[0])).get(answer[0])).isNotNull();
	}

	@Test
	void sessionCookie_ShouldCarryThePlainSessionId() {
		String id = post("/counter").split(" ")[0];

		assertThat(this.client.sessionCookie()).isEqualTo(id);
		assertThat(id).matches("[0-9a-f]{32}-n[12]");
	}

	@Test
	void readOnlyRequest_ShouldCostOnePipelinedRoundTripAndNoWrite() {
		String id = post("/counter").split(" ")[0];
		awaitBackup(id);
		memcached.resetStats();

		get("/counter");

		MemcachedServer primary = memcached.node(this.repository.nodeIdOf(id));
		assertThat(primary.stat("cmd_get")).as("gets (data + validity, pipelined)").isEqualTo(2);
		assertThat(primary.stat("cmd_set")).as("sets").isZero();
		assertThat(primary.stat("cmd_touch")).isZero();
		assertThat(backupOf(id).stat("cmd_get") + backupOf(id).stat("cmd_set")).isZero();
	}

	@Test
	void readOnlyRequests_InSteadyState_ShouldCostAtMostTwoOpsEachOverAllNodes() {
		String id = post("/counter").split(" ")[0];
		awaitBackup(id);
		memcached.resetStats();

		for (int i = 0; i < 100; i++) {
			get("/counter");
		}

		long ops = memcached.stat("cmd_get") + memcached.stat("cmd_set") + memcached.stat("cmd_touch")
				+ memcached.stat("delete_hits") + memcached.stat("delete_misses");
		assertThat(ops).as("ops of 100 read-only requests over all nodes").isLessThanOrEqualTo(200);
	}

	@Test
	void modifyingRequest_ShouldCostOneRoundTripAndOneWrite() {
		String id = post("/counter").split(" ")[0];
		awaitBackup(id);
		memcached.resetStats();

		post("/counter");

		MemcachedServer primary = memcached.node(this.repository.nodeIdOf(id));
		assertThat(primary.stat("cmd_get")).isEqualTo(2);
		assertThat(primary.stat("cas_hits")).as("one compare-and-set").isEqualTo(1);
		assertThat(primary.stat("cmd_set")).isEqualTo(1);
		// queued: one compare-and-set with the token of this server's last backup write
		await().untilAsserted(() -> assertThat(backupOf(id).stat("cmd_set")).isEqualTo(1));
		assertThat(backupOf(id).stat("cas_hits")).isEqualTo(1);
		assertThat(backupOf(id).stat("cmd_get")).isZero();
	}

	@Test
	void requestWithoutSessionThatNeverUsesIt_ShouldCostNothing() {
		assertThat(get("/hello")).isEqualTo("hello");

		assertThat(memcached.stat("cmd_get") + memcached.stat("cmd_set") + memcached.stat("cmd_touch")).isZero();
		assertThat(this.client.hasCookies()).isFalse();
	}

	@Test
	void mvcRequestWithSessionCookie_ShouldCostNoMoreThanAReadOnlyRequest() {
		// Spring MVC's SessionFlashMapManager looks at the session of every request that has one
		String id = post("/counter").split(" ")[0];
		awaitBackup(id);
		memcached.resetStats();

		assertThat(get("/hello")).isEqualTo("hello");

		MemcachedServer primary = memcached.node(this.repository.nodeIdOf(id));
		assertThat(primary.stat("cmd_get")).isEqualTo(2);
		assertThat(primary.stat("cmd_set")).isZero();
	}

	@Test
	void mutableAttributeChangedInPlace_ShouldBePersisted() {
		get("/cart");
		get("/cart");

		assertThat(get("/cart")).isEqualTo("3");
	}

	@Test
	void changeSessionId_ShouldSendNewCookieAndKillOldId() {
		String before = post("/counter").split(" ")[0];
		String after = post("/login");

		assertThat(after).isNotEqualTo(before).endsWith(before.substring(32));
		assertThat(this.client.sessionCookie()).isEqualTo(after);
		assertThat(this.repository.findById(before)).isNull();
		assertThat(get("/counter")).isEqualTo(after + " 1");
	}

	@Test
	void hostileCookie_ShouldGetAFreshSessionWithoutMemcachedCalls() {
		HttpResponse<String> response = this.client.getWithSessionCookie("/counter", "../../x%0d%0aflush_all");

		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.body()).endsWith(" null");
		this.repository.awaitBackupWrites();
		// the only read: the version check before the fresh session's backup is written
		assertThat(memcached.stat("cmd_get")).isOne();
	}

	@Test
	void unknownSessionCookie_ShouldGetAFreshSession() {
		HttpResponse<String> response = this.client.getWithSessionCookie("/counter",
				"0123456789abcdef0123456789abcdef-n1");

		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.body()).endsWith(" null").doesNotStartWith("0123456789abcdef0123456789abcdef");
		assertThat(this.client.sessionCookie()).isNotEqualTo("0123456789abcdef0123456789abcdef-n1");
	}

	private MemcachedServer backupOf(String id) {
		return memcached.node(this.repository.nodeIdOf(id).equals("n1") ? "n2" : "n1");
	}

	private void awaitBackup(String id) {
		await().until(() -> backupOf(id).stat("curr_items") >= 1);
	}

	private String get(String path) {
		return ok(this.client.get(path));
	}

	private String post(String path) {
		return ok(this.client.post(path));
	}

	private static String ok(HttpResponse<String> response) {
		assertThat(response.statusCode()).as("status of %s", response.uri()).isEqualTo(200);
		return response.body();
	}

}
