package io.github.msm.sample;

import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.github.msm.test.MemcachedServer;
import io.github.msm.test.MemcachedServers;
import org.assertj.core.api.SoftAssertions;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Concurrent requests over real HTTP, spread over two app instances (two Spring Boot
 * contexts) that share three real memcached nodes: concurrent changes of one session are
 * all kept, and a logout racing a write leaves no live session behind, neither on the
 * primary node nor in the backup ({@code bak:<id>} on the next node of the ring).
 *
 * <p>
 * Requests are released together by a latch. Before the raw nodes are checked, both
 * instances drain their backup queues, so what the nodes hold then is final.
 */
@Timeout(60)
class ConcurrentRequestsIT {

	private static final int REQUESTS = 50;

	private static final List<StoreCounters.Name> COUNTERS = List.of(StoreCounters.Name.of("msm.session.saves", "outcome", "written"),
			StoreCounters.Name.of("msm.session.saves", "outcome", "conflict-retried"), StoreCounters.Name.of("msm.session.saves", "outcome", "failed"),
			StoreCounters.Name.of("msm.backup.write.refused"), StoreCounters.Name.of("msm.backup.write.dropped"));

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(3);

	private static final SampleApps apps = new SampleApps(Duration.ofSeconds(15));

	private static ExecutorService pool;

	@BeforeAll
	@Timeout(90)
	static void startTwoInstances() {
		apps.start(memcached, "app1", "app2");
		pool = Executors.newFixedThreadPool(2 * REQUESTS);
	}

	@AfterAll
	static void stopInstances() {
		if (pool != null) {
			pool.shutdownNow();
		}
		apps.close();
	}

	@Test
	void putAttributes_FiftyConcurrentRequestsOverTwoServers_ShouldKeepAll() throws Exception {
		SessionView created = ApiClient.view(apps.send(apps.request(0, "/api/session", null).build()));
		String id = created.sessionId();
		SessionView seenByOther = ApiClient.view(apps.send(apps.request(1, "/api/session", id).build()));
		assertThat(seenByOther.sessionId()).as("the second instance finds the session").isEqualTo(id);
		StoreCounters before = apps.counters(COUNTERS);

		Map<String, String> expected = new TreeMap<>();
		List<Callable<HttpResponse<String>>> requests = new ArrayList<>();
		for (int i = 0; i < REQUESTS; i++) {
			String name = String.format("a%02d", i);
			String value = "v" + i;
			expected.put(name, value);
			int instance = i % 2;
			requests.add(() -> apps.send(put(instance, "/api/attributes/" + name, id, value)));
		}
		long started = System.nanoTime();
		List<HttpResponse<String>> responses = runTogether(requests);
		long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

		SoftAssertions answers = new SoftAssertions();
		for (HttpResponse<String> response : responses) {
			answers.assertThat(response.statusCode()).as(response.request().uri() + ": " + response.body())
				.isBetween(200, 299);
			if (response.statusCode() == 200) {
				answers.assertThat(ApiClient.view(response).sessionId())
					.as("session id answered to " + response.request().uri())
					.isEqualTo(id);
			}
		}
		answers.assertAll();
		StoreCounters delta = apps.counters(COUNTERS).since(before);
		report("putAttributes: " + REQUESTS + " PUTs in " + millis + " ms", delta);
		assertThat(delta.sum("msm.session.saves{failed}")).as("msm.session.saves{failed}").isZero();

		for (int instance = 0; instance < apps.size(); instance++) {
			SessionView session = ApiClient.view(apps.send(apps.request(instance, "/api/session", id).build()));
			assertThat(session.sessionId()).isEqualTo(id);
			assertThat(session.attributes()).as("attributes seen by app" + (instance + 1))
				.containsExactlyInAnyOrderEntriesOf(expected);
		}

		MemcachedServer primary = memcached.node(nodeOf(id));
		MemcachedServer backup = backupOf(nodeOf(id));
		assertThat(primary.get(id)).as(id + " on its primary " + primary.nodeId()).isNotNull();
		apps.awaitBackupWrites();
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(backup.get("bak:" + id)).as("bak:" + id + " on " + backup.nodeId())
				.isNotNull()
				.isEqualTo(primary.get(id)));
	}

	@Test
	void logoutRacingWrites_ShouldNotBringTheSessionBack() throws Exception {
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < REQUESTS; i++) {
			SessionView session = ApiClient
				.view(apps.send(put(i & 1, "/api/attributes/before", null, "logged-in-" + i)));
			ids.add(session.sessionId());
		}
		StoreCounters before = apps.counters(COUNTERS);

		List<Callable<HttpResponse<String>>> requests = new ArrayList<>();
		for (int i = 0; i < REQUESTS; i++) {
			String id = ids.get(i);
			int writer = i & 1;
			requests.add(() -> apps.send(put(writer, "/api/attributes/late", id, "written-during-logout")));
			requests.add(() -> apps.send(apps.request(1 - writer, "/api/session", id).DELETE().build()));
		}
		List<HttpResponse<String>> responses = runTogether(requests);

		SoftAssertions answers = new SoftAssertions();
		int putsOnOldSession = 0;
		for (int i = 0; i < REQUESTS; i++) {
			HttpResponse<String> put = responses.get(2 * i);
			HttpResponse<String> logout = responses.get(2 * i + 1);
			answers.assertThat(put.statusCode()).as("PUT on " + ids.get(i) + ": " + put.body()).isEqualTo(200);
			answers.assertThat(logout.statusCode()).as("DELETE of " + ids.get(i) + ": " + logout.body())
				.isEqualTo(204);
			if (put.statusCode() == 200 && ApiClient.view(put).sessionId().equals(ids.get(i))) {
				putsOnOldSession++;
			}
		}
		answers.assertAll();
		apps.awaitBackupWrites();
		StoreCounters delta = apps.counters(COUNTERS).since(before);
		report("logoutRacingWrites: " + REQUESTS + " PUT/DELETE pairs, " + putsOnOldSession
				+ " PUTs answered on the old session, " + (REQUESTS - putsOnOldSession) + " on a new one", delta);

		SoftAssertions gone = new SoftAssertions();
		for (String id : ids) {
			assertNoLiveSession(gone, memcached.node(nodeOf(id)), id);
			assertNoLiveSession(gone, backupOf(nodeOf(id)), "bak:" + id);
			for (int instance = 0; instance < apps.size(); instance++) {
				SessionView after = ApiClient.view(apps.send(apps.request(instance, "/api/session", id).build()));
				gone.assertThat(after.sessionId()).as("app" + (instance + 1) + " with the cookie of " + id)
					.isNotEqualTo(id);
				gone.assertThat(after.attributes()).as("app" + (instance + 1) + " with the cookie of " + id).isEmpty();
			}
		}
		gone.assertAll();
	}

	/** Absent, or the 2-byte tombstone ({@code 'T'}) that keeps late writes from bringing it back. */
	private static void assertNoLiveSession(SoftAssertions softly, MemcachedServer node, String key) {
		softly.assertThat(describe(node.get(key))).as(key + " on " + node.nodeId()).isIn("absent", "tombstone");
	}

	private static String describe(byte @Nullable [] bytes) {
		if (bytes == null) {
			return "absent";
		}
		if (bytes.length == 2 && bytes[0] == 'T') {
			return "tombstone";
		}
		return "a live item of " + bytes.length + " bytes starting with '" + (char) bytes[0] + "'";
	}

	/**
	 * Runs the requests on their own threads, released together by one latch, and
	 * returns their answers in order.
	 */
	private static <T> List<T> runTogether(List<Callable<T>> tasks) throws Exception {
		CountDownLatch ready = new CountDownLatch(tasks.size());
		CountDownLatch go = new CountDownLatch(1);
		List<Future<T>> futures = new ArrayList<>();
		for (Callable<T> task : tasks) {
			futures.add(pool.submit(() -> {
				ready.countDown();
				go.await();
				return task.call();
			}));
		}
		assertThat(ready.await(10, TimeUnit.SECONDS)).as("all request threads ready").isTrue();
		go.countDown();
		List<T> results = new ArrayList<>();
		for (Future<T> future : futures) {
			results.add(future.get(20, TimeUnit.SECONDS));
		}
		return results;
	}

	private static HttpRequest put(int instance, String path, @Nullable String sessionId, String body) {
		return apps.request(instance, path, sessionId).header("Content-Type", "text/plain")
			.PUT(BodyPublishers.ofString(body))
			.build();
	}

	/** The node named by the id's suffix: {@code <32 hex>-n2} is on {@code n2}. */
	private static String nodeOf(String sessionId) {
		return sessionId.substring(sessionId.lastIndexOf('-') + 1);
	}

	/** The next node of the ring: n1 → n2 → n3 → n1. */
	private static MemcachedServer backupOf(String nodeId) {
		int index = Integer.parseInt(nodeId.substring(1)) - 1;
		return memcached.node((index + 1) % memcached.all().size());
	}

	private static void report(String what, StoreCounters delta) {
		System.out.println("[ConcurrentRequestsIT] " + what + ':' + delta.format());
	}

}
