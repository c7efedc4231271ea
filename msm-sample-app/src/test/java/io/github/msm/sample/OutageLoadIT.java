package io.github.msm.sample;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

import io.github.msm.test.MemcachedServers;
import org.assertj.core.api.SoftAssertions;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.context.ConfigurableApplicationContext;

import static io.github.msm.sample.LoadSupport.base;
import static io.github.msm.sample.LoadSupport.percentile;
import static io.github.msm.sample.LoadSupport.sessionCookie;

/**
 * Faults of whole servers under load: 16 clients, each with its own session, increment
 * their counters over two app instances (default settings: queued backups) while one
 * instance is stopped gracefully and started again, and then every memcached node is
 * frozen for 10 s.
 *
 * <p>
 * The clients play the load balancer: they send to the instances that run and try the
 * other one when an instance refuses the connection (the request was not sent). Asserted:
 * no 5xx and no failed request; outside the outage, every counter is the previous one + 1
 * (a graceful stop loses no write, queued backups included); during the outage requests
 * are answered (by stand-in sessions); after it, every client is back in its own session,
 * with a counter past the one it had before the outage. Latency per window is written to
 * {@code target/outage-load.txt}.
 *
 * <p>
 * Schedule, each step timed from the end of the one before (starting an app takes long on
 * a busy machine): 3 s warm-up; stop app2; 2 s; start app2 again; 4 s; freeze all nodes;
 * 10 s; resume them; the clients go on for {@value #RECOVERY_SECONDS} s of recovery and 5 s
 * more.
 */
@Tag("faults")
@Timeout(180)
class OutageLoadIT {

	private static final int CLIENTS = 16;

	private static final Path REPORT = Path.of("target", "outage-load.txt");

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static final String[] WINDOWS = { "warm-up", "steady", "app2 stopping/stopped", "app2 back",
			"all nodes frozen", "nodes resumed" };

	/** Seconds after the resume until which answers may still come from stand-ins. */
	private static final int RECOVERY_SECONDS = 8;

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(3);

	private static final AtomicReferenceArray<@Nullable ConfigurableApplicationContext> apps = new AtomicReferenceArray<>(
			2);

	private static final HttpClient http = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(2))
		.build();

	private static ExecutorService pool;

	private static volatile int window;

	/** When the nodes were frozen, in {@link System#nanoTime()}; 0 before. */
	private static volatile long frozenAt;

	/** When the nodes were resumed; {@link Long#MAX_VALUE} before. */
	private static volatile long resumedAt = Long.MAX_VALUE;

	/** When the clients stop; {@link Long#MAX_VALUE} until the last fault is over. */
	private static volatile long endAt = Long.MAX_VALUE;

	@BeforeAll
	static void startTwoInstances() {
		apps.set(0, SampleApps.startApp(memcached, "app1"));
		apps.set(1, SampleApps.startApp(memcached, "app2"));
		pool = Executors.newFixedThreadPool(CLIENTS + 1);
	}

	@AfterAll
	static void stopInstances() {
		if (pool != null) {
			pool.shutdownNow();
		}
		for (int i = 0; i < apps.length(); i++) {
			ConfigurableApplicationContext app = apps.getAndSet(i, null);
			if (app != null) {
				app.close();
			}
		}
	}

	@Test
	void incrementCounters_WhileAnAppStopsAndAllNodesFreeze_ShouldKeepEverySession() throws Exception {
		long started = System.nanoTime();
		List<Client> clients = new ArrayList<>();
		List<Future<?>> running = new ArrayList<>();
		for (int i = 0; i < CLIENTS; i++) {
			Client client = new Client(i, started);
			clients.add(client);
			running.add(pool.submit(client));
		}
		List<String> events = new ArrayList<>();
		after(started, 3, 1, events, "end of warm-up", () -> {
		});
		after(started, 0, 2, events, "stop app2 (graceful)", () -> apps.getAndSet(1, null).close());
		after(started, 2, 3, events, "start app2", () -> apps.set(1, SampleApps.startApp(memcached, "app2")));
		after(started, 4, 4, events, "freeze all nodes", () -> {
			frozenAt = System.nanoTime();
			memcached.all().forEach((node) -> node.hang());
		});
		after(started, 10, 5, events, "resume all nodes", () -> {
			memcached.all().forEach((node) -> node.resume());
			resumedAt = System.nanoTime();
		});
		endAt = resumedAt + TimeUnit.SECONDS.toNanos(RECOVERY_SECONDS + 5);
		for (Future<?> client : running) {
			client.get(90, TimeUnit.SECONDS);
		}
		for (Client client : clients) {
			client.readFinal();
		}
		String report = report(clients, events, started);
		Files.createDirectories(REPORT.getParent());
		Files.writeString(REPORT, report, StandardCharsets.UTF_8);
		System.out.println(report);

		SoftAssertions softly = new SoftAssertions();
		for (Client client : clients) {
			softly.assertThat(client.failures).as("5xx or failed requests of client " + client.index).isEmpty();
			softly.assertThat(client.notPlusOne).as("counters not +1 outside the outage, client " + client.index)
				.isEmpty();
			softly.assertThat(client.finalCounters)
				.as("client %d's session after the outage (before it: %d)", client.index, client.beforeOutage)
				.allMatch((counter) -> counter > client.beforeOutage);
			softly.assertThat(client.afterOutage).as("requests of client %d after the recovery", client.index)
				.isPositive();
			softly.assertThat(client.sessionsLost).as("sessions lost by client " + client.index).isEmpty();
		}
		softly.assertThat(clients.stream().mapToLong((c) -> c.duringOutage).sum())
			.as("requests answered while every node was frozen")
			.isPositive();
		softly.assertAll();
	}

	/** Waits {@code seconds}, then opens the fault's window and runs the fault. */
	private static void after(long started, int seconds, int next, List<String> events, String what, Runnable fault)
			throws InterruptedException {
		TimeUnit.SECONDS.sleep(seconds);
		long begin = System.nanoTime();
		window = next;
		fault.run();
		events.add(String.format("t=%.1fs %s (took %d ms)", (begin - started) / 1e9, what,
				TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin)));
	}

	/** Whether a request started while the nodes were frozen or recovering. */
	private static boolean inOutage(long startNanos) {
		long resumed = resumedAt;
		return frozenAt != 0 && startNanos >= frozenAt
				&& (resumed == Long.MAX_VALUE || startNanos < resumed + TimeUnit.SECONDS.toNanos(RECOVERY_SECONDS));
	}

	/** One client: its own session, sequential increments over the instances that run. */
	private static final class Client implements Runnable {

		final int index;

		private final long started;

		final List<String> failures = new ArrayList<>();

		final List<String> notPlusOne = new ArrayList<>();

		final List<String> sessionsLost = new ArrayList<>();

		final List<Integer> finalCounters = new ArrayList<>();

		final List<long[]> latencies = new ArrayList<>();

		@Nullable String id;

		@Nullable String firstBase;

		int counter;

		int beforeOutage;

		long duringOutage;

		long afterOutage;

		boolean outageSeen;

		Client(int index, long started) {
			this.index = index;
			this.started = started;
		}

		@Override
		public void run() {
			for (int request = 0; System.nanoTime() < endAt; request++) {
				increment((this.index + request) % 2);
			}
		}

		private void increment(int preferred) {
			int phase = window;
			long begin = System.nanoTime();
			HttpResponse<String> response = null;
			for (int attempt = 0; attempt < 2 && response == null; attempt++) {
				ConfigurableApplicationContext app = apps.get((preferred + attempt) % 2);
				if (app == null) {
					continue;
				}
				try {
					response = http.send(post(app, this.id), BodyHandlers.ofString());
				}
				catch (ConnectException ex) {
					// not sent: the balancer tries the other instance
				}
				catch (IOException ex) {
					this.failures.add(String.format("t=%.3fs %s", (begin - this.started) / 1e9, ex));
					return;
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					return;
				}
			}
			long latency = System.nanoTime() - begin;
			this.latencies.add(new long[] { phase, latency });
			if (response == null || response.statusCode() != 200) {
				this.failures.add(String.format("t=%.3fs [%s] %s", (begin - this.started) / 1e9, WINDOWS[phase],
						(response == null) ? "no instance answered" : response.statusCode() + " " + response.body()));
				return;
			}
			SessionView view = JSON.readValue(response.body(), SessionView.class);
			String cookie = sessionCookie(response);
			boolean outage = inOutage(begin);
			if (outage) {
				this.outageSeen = true;
				this.duringOutage++;
			}
			else if (this.id != null && !this.outageSeen && view.counter() != this.counter + 1) {
				this.notPlusOne.add(String.format("t=%.3fs [%s] %d after %d on %s", (begin - this.started) / 1e9,
						WINDOWS[phase], view.counter(), this.counter, view.instance()));
			}
			if (!outage && !this.outageSeen) {
				this.beforeOutage = view.counter();
			}
			if (!outage && this.outageSeen) {
				this.afterOutage++;
			}
			if (cookie != null) {
				this.id = cookie;
			}
			if (this.firstBase == null) {
				this.firstBase = base(this.id);
			}
			else if (!outage && !base(this.id).equals(this.firstBase)) {
				this.sessionsLost.add("now in " + this.id + " after " + this.firstBase);
			}
			this.counter = view.counter();
		}

		void readFinal() throws Exception {
			for (int i = 0; i < apps.length(); i++) {
				ConfigurableApplicationContext app = apps.get(i);
				HttpRequest request = HttpRequest.newBuilder(uri(app, "/api/session"))
					.header("Cookie", "SESSION=" + this.id)
					.GET()
					.build();
				HttpResponse<String> response = http.send(request, BodyHandlers.ofString());
				this.finalCounters.add((response.statusCode() == 200)
						? JSON.readValue(response.body(), SessionView.class).counter() : -response.statusCode());
			}
		}

	}

	private static URI uri(ConfigurableApplicationContext app, String path) {
		return URI.create("http://127.0.0.1:" + SampleApps.port(app) + path);
	}

	private static HttpRequest post(ConfigurableApplicationContext app, @Nullable String sessionId) {
		HttpRequest.Builder request = HttpRequest.newBuilder(uri(app, "/api/counter"))
			.timeout(Duration.ofSeconds(10))
			.POST(BodyPublishers.noBody());
		if (sessionId != null) {
			request.header("Cookie", "SESSION=" + sessionId);
		}
		return request.build();
	}

	private static String report(List<Client> clients, List<String> events, long started) {
		StringBuilder out = new StringBuilder();
		long requests = clients.stream().mapToLong((c) -> c.latencies.size()).sum();
		long failures = clients.stream().mapToLong((c) -> c.failures.size()).sum();
		long lost = clients.stream().filter((c) -> !c.sessionsLost.isEmpty()).count();
		out.append(String.format("[OutageLoadIT] %d clients, %.1f s, %d requests, %d failed or 5xx, %d sessions lost,"
				+ " %d answered during the outage%n", CLIENTS, (System.nanoTime() - started) / 1e9, requests, failures,
				lost, clients.stream().mapToLong((c) -> c.duringOutage).sum()));
		out.append("faults: ").append(String.join("; ", events)).append('\n');
		for (int w = 0; w < WINDOWS.length; w++) {
			int current = w;
			long[] sorted = clients.stream()
				.flatMap((c) -> c.latencies.stream())
				.filter((l) -> l[0] == current)
				.mapToLong((l) -> l[1])
				.sorted()
				.toArray();
			out.append(String.format("window %-24s %6d requests  p50 %6.1f ms  p99 %7.1f ms  max %7.1f ms%n",
					"'" + WINDOWS[w] + "'", sorted.length, percentile(sorted, 0.5), percentile(sorted, 0.99),
					(sorted.length == 0) ? 0.0 : sorted[sorted.length - 1] / 1e6));
		}
		for (Client client : clients) {
			out.append(String.format("client %2d: before outage %4d, last %4d, final %s, id %s%n", client.index,
					client.beforeOutage, client.counter, client.finalCounters, client.id));
			client.failures.forEach((f) -> out.append("  failure: ").append(f).append('\n'));
			client.notPlusOne.forEach((f) -> out.append("  not +1: ").append(f).append('\n'));
			client.sessionsLost.forEach((f) -> out.append("  lost: ").append(f).append('\n'));
		}
		return out.toString();
	}

}
