package io.github.msm.sample;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.test.MemcachedServer;
import io.github.msm.test.MemcachedServers;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.assertj.core.api.SoftAssertions;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

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

	private static final String[] COUNTERS = { "msm.session.writes", "msm.session.write.conflicts",
			"msm.session.write.failures", "msm.backup.write.refused", "msm.backup.write.dropped" };

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(3);

	private static final List<ConfigurableApplicationContext> apps = new ArrayList<>();

	private static HttpClient http;

	private static ExecutorService pool;

	@BeforeAll
	@Timeout(90)
	static void startTwoInstances() {
		apps.add(startApp("app1"));
		apps.add(startApp("app2"));
		http = HttpClient.newBuilder()
			.version(HttpClient.Version.HTTP_1_1)
			.connectTimeout(Duration.ofSeconds(5))
			.followRedirects(HttpClient.Redirect.NEVER)
			.build();
		pool = Executors.newFixedThreadPool(2 * REQUESTS);
	}

	@AfterAll
	static void stopInstances() {
		if (pool != null) {
			pool.shutdownNow();
		}
		apps.forEach(ConfigurableApplicationContext::close);
		apps.clear();
	}

	@Test
	void putAttributes_FiftyConcurrentRequestsOverTwoServers_ShouldKeepAll() throws Exception {
		SessionView created = ApiClient.view(send(request(port(0), "/api/session", null).build()));
		String id = created.sessionId();
		SessionView seenByOther = ApiClient.view(send(request(port(1), "/api/session", id).build()));
		assertThat(seenByOther.sessionId()).as("the second instance finds the session").isEqualTo(id);
		Map<String, double[]> before = counters();

		Map<String, String> expected = new TreeMap<>();
		List<Callable<HttpResponse<String>>> requests = new ArrayList<>();
		for (int i = 0; i < REQUESTS; i++) {
			String name = String.format("a%02d", i);
			String value = "v" + i;
			expected.put(name, value);
			int instance = i % 2;
			requests.add(() -> send(put(port(instance), "/api/attributes/" + name, id, value)));
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
		Map<String, double[]> delta = delta(before, counters());
		report("putAttributes: " + REQUESTS + " PUTs in " + millis + " ms", delta);
		assertThat(sum(delta, "msm.session.write.failures")).as("msm.session.write.failures").isZero();

		for (int instance = 0; instance < apps.size(); instance++) {
			SessionView session = ApiClient.view(send(request(port(instance), "/api/session", id).build()));
			assertThat(session.sessionId()).isEqualTo(id);
			assertThat(session.attributes()).as("attributes seen by app" + (instance + 1))
				.containsExactlyInAnyOrderEntriesOf(expected);
		}

		MemcachedServer primary = memcached.node(nodeOf(id));
		MemcachedServer backup = backupOf(nodeOf(id));
		assertThat(primary.get(id)).as(id + " on its primary " + primary.nodeId()).isNotNull();
		awaitBackupWrites();
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
				.view(send(put(port(i & 1), "/api/attributes/before", null, "logged-in-" + i)));
			ids.add(session.sessionId());
		}
		Map<String, double[]> before = counters();

		List<Callable<HttpResponse<String>>> requests = new ArrayList<>();
		for (int i = 0; i < REQUESTS; i++) {
			String id = ids.get(i);
			int writer = i & 1;
			requests.add(() -> send(put(port(writer), "/api/attributes/late", id, "written-during-logout")));
			requests.add(() -> send(request(port(1 - writer), "/api/session", id).DELETE().build()));
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
		awaitBackupWrites();
		Map<String, double[]> delta = delta(before, counters());
		report("logoutRacingWrites: " + REQUESTS + " PUT/DELETE pairs, " + putsOnOldSession
				+ " PUTs answered on the old session, " + (REQUESTS - putsOnOldSession) + " on a new one", delta);

		SoftAssertions gone = new SoftAssertions();
		for (String id : ids) {
			assertNoLiveSession(gone, memcached.node(nodeOf(id)), id);
			assertNoLiveSession(gone, backupOf(nodeOf(id)), "bak:" + id);
			for (int instance = 0; instance < apps.size(); instance++) {
				SessionView after = ApiClient.view(send(request(port(instance), "/api/session", id).build()));
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

	private static HttpRequest put(int port, String path, @Nullable String sessionId, String body) {
		return request(port, path, sessionId).header("Content-Type", "text/plain")
			.PUT(BodyPublishers.ofString(body))
			.build();
	}

	private static HttpRequest.Builder request(int port, String path, @Nullable String sessionId) {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
			.timeout(Duration.ofSeconds(15));
		if (sessionId != null) {
			request.header("Cookie", "SESSION=" + sessionId);
		}
		return request;
	}

	private static HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
		return http.send(request, BodyHandlers.ofString());
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

	/** Drains both instances' backup queues, so that what the backup node holds is final. */
	private static void awaitBackupWrites() {
		apps.forEach((app) -> app.getBean(MemcachedSessionRepository.class).awaitBackupWrites());
	}

	/** The store's counters per name, one value per instance. */
	private static Map<String, double[]> counters() {
		Map<String, double[]> counters = new LinkedHashMap<>();
		for (String name : COUNTERS) {
			double[] values = new double[apps.size()];
			for (int i = 0; i < apps.size(); i++) {
				Counter counter = apps.get(i).getBean(MeterRegistry.class).find(name).counter();
				values[i] = (counter != null) ? counter.count() : Double.NaN;
			}
			counters.put(name, values);
		}
		return counters;
	}

	private static Map<String, double[]> delta(Map<String, double[]> before, Map<String, double[]> after) {
		Map<String, double[]> delta = new LinkedHashMap<>();
		after.forEach((name, values) -> {
			double[] difference = values.clone();
			for (int i = 0; i < difference.length; i++) {
				difference[i] -= before.get(name)[i];
			}
			delta.put(name, difference);
		});
		return delta;
	}

	private static double sum(Map<String, double[]> counters, String name) {
		return Arrays.stream(counters.get(name)).sum();
	}

	private static void report(String what, Map<String, double[]> delta) {
		StringBuilder line = new StringBuilder("[ConcurrentRequestsIT] ").append(what).append(':');
		delta.forEach((name, values) -> line.append(' ')
			.append(name)
			.append('=')
			.append((long) sum(delta, name))
			.append(Arrays.toString(Arrays.stream(values).mapToLong((v) -> (long) v).toArray())));
		System.out.println(line);
	}

	private static ConfigurableApplicationContext startApp(String name) {
		return new SpringApplicationBuilder(SampleApplication.class).run("--server.port=0", "--app.instance=" + name,
				"--msm.nodes=" + memcached.nodesProperty(), "--spring.main.banner-mode=off");
	}

	private static int port(int instance) {
		return Integer.parseInt(apps.get(instance).getEnvironment().getRequiredProperty("local.server.port"));
	}

}
