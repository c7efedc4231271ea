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
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

import io.github.msm.session.MemcachedSession;
import io.github.msm.session.MemcachedSessionRepository;
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
 * The fault suite in sticky mode: 16 clients, each with its own session, over two
 * instances with {@code msm.sticky=true} and routes {@code app1}, {@code app2} (default
 * settings otherwise: synchronous sticky writes, queued backups) and three memcached nodes,
 * while one node is killed, another frozen and resumed, the first restarted empty, and
 * then app2 is stopped gracefully.
 *
 * <p>
 * The clients play the load balancer: a request goes to the instance the cookie's route
 * names (the first one to {@code index % 2}), and to the other one only when that one is
 * stopped or refuses the connection (the request was not sent); the other instance then
 * takes the session over and sends a cookie with its route. Each client reads three times
 * for every increment ({@code GET /api/session}, then {@code POST /api/counter}), and every
 * fourth client only reads after its first increment, so that sessions also sit unchanged
 * in local memory while their node fails (they move at their next read).
 *
 * <p>
 * Asserted: no 5xx and no failed request, no counter going backwards or skipping (a read
 * returns the last increment, an increment the last + 1), no session lost (the id base
 * never changes), and at the end every session has its client's count both on app1 (where
 * everybody is after the stop) and in memcached (read through app1's memcached repository,
 * which is what another server would take over). Latency per fault window is written to
 * {@code target/sticky-failover-load.txt}.
 *
 * <p>
 * Schedule (seconds from the start): 0-3 warm-up; 6 kill n1; 12 freeze n2 (only n3
 * answers); 16 resume n2; 20 restart n1 empty; 25 stop app2; 31 end.
 */
@Tag("faults")
@Timeout(150)
class StickyFailoverLoadIT {

	private static final int CLIENTS = 16;

	private static final int END_SECONDS = 31;

	private static final Path REPORT = Path.of("target", "sticky-failover-load.txt");

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static final String[] ROUTES = { "app1", "app2" };

	private static final String[] WINDOWS = { "warm-up", "steady", "n1 killed", "n2 frozen, n1 down",
			"n2 resumed, n1 down", "n1 restarted empty", "app2 stopped (takeover)" };

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

	@BeforeAll
	@Timeout(120)
	static void startTwoStickyInstances() {
		for (int i = 0; i < ROUTES.length; i++) {
			apps.set(i, SampleApps.startApp(memcached, ROUTES[i], "--msm.sticky=true", "--msm.jvm-route=" + ROUTES[i]));
		}
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
	void readAndIncrement_WhileNodesFailAndAnAppStops_ShouldLoseNothing() throws Exception {
		long started = System.nanoTime();
		long end = started + TimeUnit.SECONDS.toNanos(END_SECONDS);
		List<Client> clients = new ArrayList<>();
		List<Future<?>> running = new ArrayList<>();
		for (int i = 0; i < CLIENTS; i++) {
			Client client = new Client(i, started, end);
			clients.add(client);
			running.add(pool.submit(client));
		}
		List<String> events = Collections.synchronizedList(new ArrayList<>());
		at(started, 3, events, 1, "end of warm-up", () -> {
		});
		at(started, 6, events, 2, "kill n1", () -> memcached.node("n1").kill());
		at(started, 12, events, 3, "freeze n2", () -> memcached.node("n2").hang());
		at(started, 16, events, 4, "resume n2", () -> memcached.node("n2").resume());
		at(started, 20, events, 5, "restart n1 empty", () -> memcached.node("n1").restart());
		at(started, 25, events, 6, "stop app2 (graceful)", () -> apps.getAndSet(1, null).close());
		for (Future<?> client : running) {
			client.get(90, TimeUnit.SECONDS);
		}
		ConfigurableApplicationContext survivor = apps.get(0);
		survivor.getBean(MemcachedSessionRepository.class).awaitBackupWrites();
		for (Client client : clients) {
			client.readFinal(survivor);
		}
		String report = report(clients, events, started);
		Files.createDirectories(REPORT.getParent());
		Files.writeString(REPORT, report, StandardCharsets.UTF_8);
		System.out.println(report);

		SoftAssertions softly = new SoftAssertions();
		for (Client client : clients) {
			softly.assertThat(client.failures).as("5xx or failed requests of client " + client.index).isEmpty();
			softly.assertThat(client.wrongCounters).as("counters not as expected, client " + client.index).isEmpty();
			softly.assertThat(client.sessionsLost).as("sessions lost by client " + client.index).isEmpty();
			softly.assertThat(client.finalCounters)
				.as("client %d's counter on app1 and in memcached (session %s)", client.index, client.id)
				.containsOnly(client.counter);
			softly.assertThat(client.counter).as("increments of client " + client.index).isPositive();
		}
		softly.assertThat(clients.stream().mapToInt((c) -> c.takeovers).sum()).as("takeovers after app2 stopped")
			.isPositive();
		softly.assertAll();
	}

	/** Waits until {@code seconds} after the start, then opens the fault's window and runs it. */
	private static void at(long started, int seconds, List<String> events, int next, String what, Runnable fault)
			throws InterruptedException {
		long wait = started + TimeUnit.SECONDS.toNanos(seconds) - System.nanoTime();
		if (wait > 0) {
			TimeUnit.NANOSECONDS.sleep(wait);
		}
		long begin = System.nanoTime();
		window = next;
		fault.run();
		events.add(String.format("t=%.1fs %s (took %d ms)", (begin - started) / 1e9, what,
				TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin)));
	}

	private static int routed(@Nullable String id, int fallback) {
		if (id != null) {
			for (int i = 0; i < ROUTES.length; i++) {
				if (id.endsWith("." + ROUTES[i])) {
					return i;
				}
			}
		}
		return fallback;
	}

	/** One client: its own session, three reads then an increment, on the routed instance. */
	private static final class Client implements Runnable {

		final int index;

		private final long started;

		private final long end;

		final List<String> failures = new ArrayList<>();

		final List<String> wrongCounters = new ArrayList<>();

		final List<String> sessionsLost = new ArrayList<>();

		final List<Integer> finalCounters = new ArrayList<>();

		final List<long[]> latencies = new ArrayList<>();

		@Nullable String id;

		@Nullable String firstBase;

		int counter;

		int moves;

		int takeovers;

		Client(int index, long started, long end) {
			this.index = index;
			this.started = started;
			this.end = end;
		}

		@Override
		public void run() {
			for (int request = 0; System.nanoTime() < this.end; request++) {
				exchange(this.id == null || (!readsOnly() && request % 4 == 3));
			}
		}

		/** Every fourth client only reads once it has its session: it never changes it. */
		boolean readsOnly() {
			return this.index % 4 == 3;
		}

		private void exchange(boolean increment) {
			int phase = window;
			long begin = System.nanoTime();
			int preferred = routed(this.id, this.index % 2);
			HttpResponse<String> response = null;
			String answeredBy = null;
			for (int attempt = 0; attempt < 2 && response == null; attempt++) {
				int instance = (preferred + attempt) % 2;
				ConfigurableApplicationContext app = apps.get(instance);
				if (app == null) {
					continue;
				}
				try {
					response = http.send(request(app, increment, this.id), BodyHandlers.ofString());
					answeredBy = ROUTES[instance];
				}
				catch (ConnectException ex) {
					// not sent: the balancer tries the other instance
				}
				catch (IOException ex) {
					this.failures.add(String.format("t=%.3fs [%s] %s on %s", (begin - this.started) / 1e9,
							WINDOWS[phase], ex, ROUTES[instance]));
					return;
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					return;
				}
			}
			long latency = System.nanoTime() - begin;
			this.latencies.add(new long[] { phase, latency });
			String at = String.format("t=%.3fs [%s] %s %s", (begin - this.started) / 1e9, WINDOWS[phase],
					increment ? "POST" : "GET", this.id);
			if (response == null || response.statusCode() != 200) {
				this.failures.add(at + ": " + ((response == null) ? "no instance answered"
						: response.statusCode() + " " + response.body()));
				return;
			}
			SessionView view = JSON.readValue(response.body(), SessionView.class);
			int expected = increment ? this.counter + 1 : this.counter;
			if (view.counter() != expected) {
				this.wrongCounters.add(at + ": counter " + view.counter() + ", expected " + expected + " (answered by "
						+ answeredBy + " as " + view.sessionId() + ")");
			}
			String cookie = sessionCookie(response);
			if (cookie != null && this.id != null && !cookie.equals(this.id)) {
				this.moves++;
				if (!cookie.endsWith("." + ROUTES[preferred])) {
					this.takeovers++;
				}
			}
			if (cookie != null) {
				this.id = cookie;
			}
			if (this.firstBase == null) {
				this.firstBase = base(this.id);
			}
			else if (!base(this.id).equals(this.firstBase)) {
				this.sessionsLost.add(at + ": now in " + this.id + " after " + this.firstBase);
			}
			this.counter = Math.max(this.counter, view.counter());
		}

		/** The session's counter on the survivor and in memcached (what a takeover reads). */
		void readFinal(ConfigurableApplicationContext survivor) throws Exception {
			HttpRequest request = HttpRequest.newBuilder(uri(survivor, "/api/session"))
				.header("Cookie", "SESSION=" + this.id)
				.GET()
				.build();
			HttpResponse<String> response = http.send(request, BodyHandlers.ofString());
			this.finalCounters.add((response.statusCode() == 200)
					? JSON.readValue(response.body(), SessionView.class).counter() : -response.statusCode());
			String id = sessionCookie(response);
			MemcachedSession stored = survivor.getBean(MemcachedSessionRepository.class)
				.findById((id != null) ? id : this.id);
			Object counter = (stored != null) ? stored.getAttribute(SessionController.COUNTER) : null;
			this.finalCounters.add((counter instanceof Number number) ? number.intValue() : -1);
		}

	}

	private static URI uri(ConfigurableApplicationContext app, String path) {
		return URI.create("http://127.0.0.1:" + SampleApps.port(app) + path);
	}

	private static HttpRequest request(ConfigurableApplicationContext app, boolean increment,
			@Nullable String sessionId) {
		HttpRequest.Builder request = HttpRequest.newBuilder(uri(app, increment ? "/api/counter" : "/api/session"))
			.timeout(Duration.ofSeconds(10));
		if (sessionId != null) {
			request.header("Cookie", "SESSION=" + sessionId);
		}
		return (increment ? request.POST(BodyPublishers.noBody()) : request.GET()).build();
	}

	private static String report(List<Client> clients, List<String> events, long started) {
		StringBuilder out = new StringBuilder();
		long requests = clients.stream().mapToLong((c) -> c.latencies.size()).sum();
		long failures = clients.stream().mapToLong((c) -> c.failures.size()).sum();
		long wrong = clients.stream().mapToLong((c) -> c.wrongCounters.size()).sum();
		long lost = clients.stream()
			.filter((c) -> !c.sessionsLost.isEmpty() || c.finalCounters.stream().anyMatch((f) -> f != c.counter))
			.count();
		out.append(String.format(
				"[StickyFailoverLoadIT] %d clients, %.1f s, %d requests, %d failed or 5xx, %d counters wrong,"
						+ " %d sessions lost or short, %d id changes (%d takeovers)%n",
				CLIENTS, (System.nanoTime() - started) / 1e9, requests, failures, wrong, lost,
				clients.stream().mapToInt((c) -> c.moves).sum(), clients.stream().mapToInt((c) -> c.takeovers).sum()));
		out.append("faults: ").append(String.join("; ", events)).append('\n');
		for (int w = 0; w < WINDOWS.length; w++) {
			int current = w;
			long[] sorted = clients.stream()
				.flatMap((c) -> c.latencies.stream())
				.filter((l) -> l[0] == current)
				.mapToLong((l) -> l[1])
				.sorted()
				.toArray();
			out.append(String.format("window %-28s %6d requests  p50 %6.1f ms  p99 %7.1f ms  max %7.1f ms%n",
					"'" + WINDOWS[w] + "'", sorted.length, percentile(sorted, 0.5), percentile(sorted, 0.99),
					(sorted.length == 0) ? 0.0 : sorted[sorted.length - 1] / 1e6));
		}
		for (Client client : clients) {
			out.append(String.format("client %2d: counter %4d, final (app1, memcached) %s, %d id changes, id %s%n",
					client.index, client.counter, client.finalCounters, client.moves, client.id));
			client.failures.forEach((f) -> out.append("  failure: ").append(f).append('\n'));
			client.wrongCounters.forEach((f) -> out.append("  wrong: ").append(f).append('\n'));
			client.sessionsLost.forEach((f) -> out.append("  lost: ").append(f).append('\n'));
		}
		return out.toString();
	}

}
