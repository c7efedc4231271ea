package io.github.msm.sample;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.msm.test.MemcachedServers;
import org.assertj.core.api.SoftAssertions;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.json.JsonMapper;

import static io.github.msm.sample.LoadSupport.base;
import static io.github.msm.sample.LoadSupport.sessionCookie;

/**
 * Realistic traffic through short node hangs (issue 20): {@value #CLIENTS} browser
 * clients, each with its own session and cookie, increment their counters round-robin
 * over two app instances on three real memcached nodes, now and then sending two
 * requests at once, while six hangs (SIGSTOP) of one or two nodes for 1–3 s pass, the
 * second node of a pair back 700 ms after the first. A quarter of the clients log out
 * ({@code DELETE /api/session} invalidates the session, as a logout does) and keep
 * sending their old cookie.
 *
 * <p>
 * Counted, with the instance, the id and the fault window of each: a <em>stale read</em>
 * (an answer whose counter is not past the highest one acknowledged to the client before
 * the request was sent; of two requests sent at once, the later save wins, so the lower
 * answer counts), a <em>logged-out session served</em> (an answer to the old cookie that
 * carries the old session's data) and an <em>acknowledged write lost</em> (after the run,
 * an instance reads the client's session with a counter below the one the client was
 * last served). Each client's session carries an {@code owner} attribute from its first
 * request, so that an empty <em>stand-in</em> (the session's node and its backup both hang:
 * README, "All nodes down") is told apart from the session; answers by a stand-in are
 * counted and reported, not taken as acknowledged (the store discards their writes by
 * design). Requests answered 5xx or failed while nodes hang are allowed; they are counted
 * and reported. Both backup modes run; the counts of each, with every case's client,
 * instance, cookie, served id and fault window, go to
 * {@code target/realistic-traffic-<mode>.txt}.
 *
 * <p>
 * Asserted: traffic and logouts happened, and no acknowledged write is lost at the final
 * read. Not asserted yet, only reported (issue 20 is open): stale reads and logged-out
 * sessions served, which this run still finds (see README, "When a node fails").
 */
@Tag("faults")
@Timeout(300)
class RealisticTrafficIT {

	private static final int CLIENTS = 160;

	/** Every fourth client logs out during the run. */
	private static final int LOGOUT_EVERY = 4;

	/** The attribute each client's session carries from its first request: its owner. */
	private static final String OWNER = "owner";

	/** What {@code increment} returns for an answer that acknowledges nothing: a stand-in, a logged-out id. */
	private static final int NOT_ACKNOWLEDGED = -1;

	private static final JsonMapper JSON = JsonMapper.builder().build();

	/** The hangs: nodes (the second one resumes 700 ms after the first), and for how long. */
	private static final List<Hang> HANGS = List.of(new Hang(1500, "n1"), new Hang(2000, "n2", "n3"),
			new Hang(1000, "n3"), new Hang(2500, "n1", "n2"), new Hang(3000, "n2"), new Hang(1200, "n3", "n1"));

	/** Seconds of traffic before the first hang and between a resume and the next hang. */
	private static final int GAP_SECONDS = 3;

	/** Counters of the store reported after each run, summed over app1 and app2. */
	private static final List<StoreCounters.Name> COUNTERS = List.of(
			StoreCounters.Name.of("msm.session.failover", "kind", "relocation"),
			StoreCounters.Name.of("msm.session.write.discarded"), StoreCounters.Name.of("msm.session.saves", "outcome", "failed"),
			StoreCounters.Name.of("msm.session.saves", "outcome", "conflict-retried"));

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(3);

	/** The window requests start in: 0 before the first hang, 2k+1 during hang k, 2k+2 after it. */
	private static volatile int window;

	private static volatile boolean running;

	@ParameterizedTest(name = "backup-async={0}")
	@ValueSource(booleans = { true, false })
	void incrementAndLogOut_WhileNodesHang_ShouldServeNothingStaleAndLoseNothing(boolean backupAsync)
			throws Exception {
		String mode = backupAsync ? "async" : "sync";
		window = 0;
		running = true;
		ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
		ExecutorService second = Executors.newFixedThreadPool(CLIENTS);
		try (SampleApps apps = new SampleApps(Duration.ofSeconds(10))) {
			apps.start(memcached, List.of("--msm.backup-async=" + backupAsync), "app1", "app2");
			StoreCounters before = apps.counters(COUNTERS);
			long started = System.nanoTime();
			List<Client> clients = new ArrayList<>();
			List<Future<?>> futures = new ArrayList<>();
			for (int i = 0; i < CLIENTS; i++) {
				Client client = new Client(apps, second, i, started);
				clients.add(client);
				futures.add(pool.submit(client));
			}
			List<String> events = Collections.synchronizedList(new ArrayList<>());
			runHangs(started, events);
			running = false;
			for (Future<?> future : futures) {
				future.get(60, TimeUnit.SECONDS);
			}
			double seconds = (System.nanoTime() - started) / 1e9;
			apps.awaitBackupWrites();
			for (Client client : clients) {
				client.checkFinal();
			}
			String report = report(mode, clients, events, seconds, apps.counters(COUNTERS).since(before));
			Path file = Path.of("target", "realistic-traffic-" + mode + ".txt");
			Files.createDirectories(file.getParent());
			Files.writeString(file, report, StandardCharsets.UTF_8);
			System.out.println(report);

			// Stale reads and logged-out sessions served are not 0 yet (issue 20, see the
			// class comment): they are counted and reported above, not asserted.
			SoftAssertions softly = new SoftAssertions();
			softly.assertThat(clients.stream().flatMap((c) -> c.lost.stream()).toList())
				.as("acknowledged writes lost (%s)", mode)
				.isEmpty();
			softly.assertThat(clients.stream().mapToLong((c) -> c.acks.get()).sum())
				.as("acknowledged increments (%s)", mode)
				.isPositive();
			softly.assertThat(clients.stream().filter((c) -> c.loggedOutId != null).count())
				.as("clients that logged out (%s)", mode)
				.isPositive();
			softly.assertAll();
		}
		finally {
			running = false;
			memcached.all().forEach((node) -> {
				if (node.isHung()) {
					node.resume();
				}
			});
			pool.shutdownNow();
			second.shutdownNow();
		}
	}

	/** The six hangs, each after {@value #GAP_SECONDS} s of traffic, and a last gap. */
	private static void runHangs(long started, List<String> events) throws InterruptedException {
		for (int k = 0; k < HANGS.size(); k++) {
			TimeUnit.SECONDS.sleep(GAP_SECONDS);
			Hang hang = HANGS.get(k);
			window = 2 * k + 1;
			for (String node : hang.nodes()) {
				memcached.node(node).hang();
			}
			events.add(String.format("t=%.1fs hang %s", (System.nanoTime() - started) / 1e9,
					String.join("+", hang.nodes())));
			TimeUnit.MILLISECONDS.sleep(hang.millis());
			for (int i = 0; i < hang.nodes().length; i++) {
				if (i > 0) {
					TimeUnit.MILLISECONDS.sleep(700);
				}
				memcached.node(hang.nodes()[i]).resume();
				events.add(String.format("t=%.1fs resume %s", (System.nanoTime() - started) / 1e9,
						hang.nodes()[i]));
			}
			window = 2 * k + 2;
		}
		TimeUnit.SECONDS.sleep(GAP_SECONDS);
	}

	private static String windowName(int window) {
		if (window == 0) {
			return "before the hangs";
		}
		Hang hang = HANGS.get((window - 1) / 2);
		String nodes = String.join("+", hang.nodes());
		return (window % 2 == 1) ? "hang " + (window + 1) / 2 + " of " + nodes + " " + hang.millis() + " ms"
				: "after hang " + window / 2 + " of " + nodes;
	}

	/** One browser: its own cookie, requests round-robin, sometimes two at once. */
	private static final class Client implements Runnable {

		final int index;

		private final SampleApps apps;

		private final long started;

		private final Random random;

		private final AtomicInteger turn = new AtomicInteger();

		/** Increments answered 200 in the client's own session. */
		final AtomicInteger acks = new AtomicInteger();

		/** Highest counter answered 200. */
		final AtomicInteger acknowledged = new AtomicInteger();

		/**
		 * The counter the store must be past: the highest acknowledged, except that of two
		 * requests sent at once the lower answer counts (see {@link #raiseFloor}).
		 */
		volatile int floor;

		/** Sends the second of two requests sent at once. */
		private final ExecutorService second;

		volatile @Nullable String cookie;

		@Nullable String firstBase;

		/** The id this client logged out of, then sent on every request. */
		volatile @Nullable String loggedOutId;

		final String owner;

		volatile @Nullable String logout;

		/** Whether the session in {@link #cookie} carries this client's owner attribute. */
		volatile boolean claimed;

		final List<String> standIns = Collections.synchronizedList(new ArrayList<>());

		final List<String> loggedOutStandIns = Collections.synchronizedList(new ArrayList<>());

		final List<String> stale = Collections.synchronizedList(new ArrayList<>());

		final List<String> loggedOutServed = Collections.synchronizedList(new ArrayList<>());

		final List<String> lost = new ArrayList<>();

		final List<String> failed = Collections.synchronizedList(new ArrayList<>());

		final List<String> replaced = Collections.synchronizedList(new ArrayList<>());

		final AtomicInteger requests = new AtomicInteger();

		/** Acknowledged increments a stale read did not see. */
		final AtomicInteger unseen = new AtomicInteger();

		final AtomicInteger loggedOutRequests = new AtomicInteger();

		final List<Integer> finalCounters = new ArrayList<>();

		Client(SampleApps apps, ExecutorService second, int index, long started) {
			this.apps = apps;
			this.second = second;
			this.index = index;
			this.started = started;
			this.random = new Random(index);
			this.owner = "client-" + index;
		}

		@Override
		public void run() {
			try {
				TimeUnit.MILLISECONDS.sleep(this.random.nextInt(500));
				while (running) {
					if (this.cookie == null || !this.claimed) {
						claim();
					}
					else if (this.loggedOutId == null && this.index % LOGOUT_EVERY == 0 && window >= 3
							&& this.random.nextInt(40) == 0) {
						logOut();
					}
					else if (this.cookie != null && this.random.nextInt(5) == 0) {
						int before = this.floor;
						CompletableFuture<@Nullable Integer> first = CompletableFuture
							.supplyAsync(() -> increment(before), this.second);
						Integer answer = increment(before);
						Integer other = first.join();
						raiseFloor(before, answer, other);
					}
					else {
						Integer answer = increment(this.floor);
						if (answer != null && answer != NOT_ACKNOWLEDGED) {
							this.floor = Math.max(this.floor, answer);
						}
					}
					TimeUnit.MILLISECONDS.sleep(100 + this.random.nextInt(200));
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}

		/**
		 * After two requests at once: both read at least {@code before} and write one more,
		 * and the later save wins per attribute (Spring Session's rule), so the store may
		 * keep the lower answer; a request that failed may still have saved
		 * {@code before + 1}.
		 */
		private void raiseFloor(int before, @Nullable Integer answer, @Nullable Integer other) {
			if (answer != null && answer == NOT_ACKNOWLEDGED) {
				answer = other;
				other = null;
			}
			else if (other != null && other == NOT_ACKNOWLEDGED) {
				other = null;
			}
			if (answer == null && other == null || answer != null && answer == NOT_ACKNOWLEDGED) {
				return;
			}
			if (other == null && answer != null) {
				this.floor = Math.max(this.floor, answer);
				return;
			}
			int lowest = (answer == null || other == null) ? before + 1 : Math.min(answer, other);
			this.floor = Math.max(this.floor, lowest);
		}

		private int nextInstance() {
			return (this.index + this.turn.getAndIncrement()) % 2;
		}

		/**
		 * One increment; its counter, {@code null} when it failed, or
		 * {@link #NOT_ACKNOWLEDGED} for an answer by a stand-in, in a new session or to a
		 * logged-out id. {@code before} is the counter the store must be past when the request is sent.
		 */
		private @Nullable Integer increment(int before) {
			int instance = nextInstance();
			String loggedOut = this.loggedOutId;
			String sent = (loggedOut != null) ? loggedOut : this.cookie;
			int phase = window;
			long begin = System.nanoTime();
			this.requests.incrementAndGet();
			HttpResponse<String> response;
			try {
				response = this.apps.sendAsync(post(instance, sent)).join();
			}
			catch (RuntimeException ex) {
				this.failed.add(describe(begin, phase, instance, sent, "failed: " + ex.getCause()));
				return null;
			}
			if (response.statusCode() != 200) {
				this.failed.add(describe(begin, phase, instance, sent, "answered " + response.statusCode()));
				return null;
			}
			SessionView view = JSON.readValue(response.body(), SessionView.class);
			boolean own = this.owner.equals(view.attributes().get(OWNER));
			if (loggedOut != null) {
				this.loggedOutRequests.incrementAndGet();
				if (own) {
					this.loggedOutServed.add(describe(begin, phase, instance, sent, "served its data: "
							+ view.sessionId() + " on " + view.node() + " counter " + view.counter()));
				}
				else if (base(view.sessionId()).equals(base(loggedOut))) {
					this.loggedOutStandIns.add(describe(begin, phase, instance, sent, "empty stand-in "
							+ view.sessionId() + " (down there: " + view.nodesDown() + ")"));
				}
				return NOT_ACKNOWLEDGED;
			}
			String set = sessionCookie(response);
			String id = (set != null) ? set : view.sessionId();
			if (!own && base(id).equals(this.firstBase)) {
				// an empty stand-in under the same id: the session's node and its backup do not
				// answer; its writes are discarded when they do (README, "All nodes down")
				this.standIns.add(describe(begin, phase, instance, sent,
						"stand-in " + view.sessionId() + " (down there: " + view.nodesDown() + ")"));
				return NOT_ACKNOWLEDGED;
			}
			if (this.firstBase == null) {
				this.firstBase = base(id);
			}
			else if (own && !base(id).equals(this.firstBase)) {
				// of two requests sent at once, the other one got a new session: the client
				// takes its own session back (the last cookie wins, as in a browser)
				this.firstBase = base(id);
			}
			else if (!base(id).equals(this.firstBase)) {
				this.replaced.add(describe(begin, phase, instance, sent,
						"new session " + id + " counter " + view.counter() + " after " + this.firstBase));
				this.firstBase = base(id);
				this.floor = 0;
				// the client goes on in the new session, marked as its own at its next turn
				this.cookie = id;
				this.claimed = false;
				return NOT_ACKNOWLEDGED;
			}
			else if (view.counter() <= before) {
				this.stale.add(describe(begin, phase, instance, sent, "counter " + view.counter() + " after "
						+ before + " acknowledged, served " + view.sessionId() + " on " + view.node()
						+ " (down there: " + view.nodesDown() + ")"));
				this.unseen.addAndGet(before + 1 - view.counter());
				// counted once: the client goes on from what it was served
				this.floor = Math.min(this.floor, view.counter() - 1);
			}
			this.acknowledged.accumulateAndGet(view.counter(), Math::max);
			this.acks.incrementAndGet();
			if (set != null) {
				this.cookie = set;
			}
			return view.counter();
		}

		/** Creates the client's session, marked with its owner, so that a stand-in is told apart. */
		private void claim() {
			int instance = nextInstance();
			try {
				HttpResponse<String> response = this.apps.send(this.apps.request(instance, "/api/attributes/" + OWNER, this.cookie)
					.PUT(BodyPublishers.ofString(this.owner))
					.build());
				String set = sessionCookie(response);
				String id = (set != null) ? set : this.cookie;
				if (response.statusCode() == 200 && id != null) {
					this.firstBase = base(id);
					this.cookie = id;
					this.claimed = true;
				}
			}
			catch (IOException ex) {
				this.failed.add("claim failed: " + ex);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}

		private void logOut() {
			String id = this.cookie;
			if (id == null) {
				return;
			}
			int instance = nextInstance();
			int phase = window;
			long begin = System.nanoTime();
			try {
				HttpResponse<String> response = this.apps
					.send(this.apps.request(instance, "/api/session", id).DELETE().build());
				if (response.statusCode() == 204) {
					this.loggedOutId = id;
					this.logout = describe(begin, phase, instance, id, "logged out at counter " + this.floor);
				}
				else {
					this.failed.add(describe(begin, phase, instance, id, "logout answered " + response.statusCode()));
				}
			}
			catch (IOException ex) {
				this.failed.add(describe(begin, phase, instance, id, "logout failed: " + ex));
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}

		/** Reads the session with the last cookie from both instances after the run. */
		void checkFinal() throws Exception {
			String id = (this.loggedOutId != null) ? this.loggedOutId : this.cookie;
			if (id == null) {
				return;
			}
			for (int instance = 0; instance < 2; instance++) {
				HttpResponse<String> response = this.apps
					.send(this.apps.request(instance, "/api/session", id).GET().build());
				if (response.statusCode() != 200) {
					this.lost.add("final read of " + id + " on app" + (instance + 1) + " answered "
							+ response.statusCode());
					continue;
				}
				SessionView view = JSON.readValue(response.body(), SessionView.class);
				this.finalCounters.add(view.counter());
				if (this.loggedOutId != null) {
					if (this.owner.equals(view.attributes().get(OWNER))) {
						this.loggedOutServed.add("final read of " + id + " on app" + (instance + 1) + " served "
								+ view.sessionId() + " counter " + view.counter());
					}
				}
				else if (view.counter() < this.floor) {
					this.lost.add("final read of " + id + " on app" + (instance + 1) + ": counter " + view.counter()
							+ " < " + this.floor + " acknowledged, served " + view.sessionId() + " on "
							+ view.node());
				}
			}
		}

		private HttpRequest post(int instance, @Nullable String id) {
			return this.apps.request(instance, "/api/counter", id).POST(BodyPublishers.noBody()).build();
		}

		private String describe(long begin, int phase, int instance, @Nullable String sent, String what) {
			return String.format("t=%.3fs [%s] client %d app%d cookie %s: %s", (begin - this.started) / 1e9,
					windowName(phase), this.index, instance + 1, sent, what);
		}

	}

	private static String report(String mode, List<Client> clients, List<String> events, double seconds,
			StoreCounters counters) {
		StringBuilder out = new StringBuilder();
		long requests = clients.stream().mapToLong((c) -> c.requests.get()).sum();
		long acknowledged = clients.stream().mapToLong((c) -> c.acks.get()).sum();
		long failed = clients.stream().mapToLong((c) -> c.failed.size()).sum();
		long stale = clients.stream().mapToLong((c) -> c.stale.size()).sum();
		long served = clients.stream().mapToLong((c) -> c.loggedOutServed.size()).sum();
		long lost = clients.stream().mapToLong((c) -> c.lost.size()).sum();
		long replaced = clients.stream().mapToLong((c) -> c.replaced.size()).sum();
		long loggedOut = clients.stream().filter((c) -> c.loggedOutId != null).count();
		long loggedOutRequests = clients.stream().mapToLong((c) -> c.loggedOutRequests.get()).sum();
		out.append(String.format(
				"[RealisticTrafficIT backup-%s] %d clients, %.1f s, %d requests, %d increments acknowledged,"
						+ " %d failed or 5xx, %d logged out (%d requests"
						+ " with the old cookie answered)%n",
				mode, clients.size(), seconds, requests, acknowledged, failed, loggedOut, loggedOutRequests));
		out.append(String.format("stale reads %d, logged-out sessions served %d, acknowledged writes lost %d,"
				+ " answers in a new session %d%n", stale, served, lost, replaced));
		out.append(String.format("clients affected: %d with stale reads, %d logged-out sessions served, %d with"
				+ " lost writes, %d moved to a new session%n", clients.stream().filter((c) -> !c.stale.isEmpty()).count(),
				clients.stream().filter((c) -> !c.loggedOutServed.isEmpty()).count(),
				clients.stream().filter((c) -> !c.lost.isEmpty()).count(),
				clients.stream().filter((c) -> !c.replaced.isEmpty()).count()));
		out.append(String.format("answered by an empty stand-in (session node and backup not answering): %d in"
				+ " sessions, %d under logged-out ids%n", clients.stream().mapToLong((c) -> c.standIns.size()).sum(),
				clients.stream().mapToLong((c) -> c.loggedOutStandIns.size()).sum()));
		out.append(String.format("increments acknowledged and then not seen by a later request (summed over the"
				+ " stale reads): %d%n", clients.stream().mapToLong((c) -> c.unseen.get()).sum()));
		out.append("store counters (app1+app2):").append(counters.format()).append('\n');
		out.append("faults: ").append(String.join("; ", events)).append('\n');
		for (Client client : clients) {
			if (client.logout != null) {
				out.append("logout: ").append(client.logout).append('\n');
			}
		}
		for (Client client : clients) {
			client.stale.forEach((s) -> out.append("stale: ").append(s).append('\n'));
			client.loggedOutServed.forEach((s) -> out.append("logged-out served: ").append(s).append('\n'));
			client.lost.forEach((s) -> out.append("lost: ").append(s).append('\n'));
			client.replaced.forEach((s) -> out.append("new session: ").append(s).append('\n'));
		}
		for (Client client : clients) {
			client.standIns.forEach((s) -> out.append("stand-in: ").append(s).append('\n'));
			client.loggedOutStandIns.forEach((s) -> out.append("logged-out stand-in: ").append(s).append('\n'));
			client.failed.forEach((s) -> out.append("failed: ").append(s).append('\n'));
		}
		return out.toString();
	}

	private record Hang(int millis, String... nodes) {
	}

}
