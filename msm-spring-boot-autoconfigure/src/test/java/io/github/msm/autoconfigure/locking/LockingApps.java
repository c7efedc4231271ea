package io.github.msm.autoconfigure.locking;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.lock.SessionLocks;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.test.MemcachedServers;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Instances of {@link LockingApplication} (one Spring Boot context each, on a random
 * port) over the nodes of a {@link MemcachedServers}, each with its own locking
 * settings, and an HTTP client that sends the {@code SESSION} cookie it is given.
 */
final class LockingApps implements AutoCloseable {

	private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();

	private final HttpClient http = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(5))
		.build();

	private final ExecutorService pool = Executors.newCachedThreadPool();

	/** Starts an instance; returns its index. */
	int start(MemcachedServers memcached, String... arguments) {
		List<String> all = new ArrayList<>(List.of("--server.port=0", "--msm.nodes=" + memcached.nodesProperty(),
				"--spring.main.banner-mode=off", "--logging.level.net.spy.memcached=ERROR"));
		all.addAll(List.of(arguments));
		this.contexts.add(new SpringApplicationBuilder(LockingApplication.class).run(all.toArray(String[]::new)));
		return this.contexts.size() - 1;
	}

	HttpRequest.Builder request(int instance, String path, @Nullable String sessionId) {
		int port = Integer.parseInt(
				this.contexts.get(instance).getEnvironment().getRequiredProperty("local.server.port"));
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
			.timeout(Duration.ofSeconds(30));
		if (sessionId != null) {
			request.header("Cookie", "SESSION=" + sessionId);
		}
		return request;
	}

	HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
		return this.http.send(request, HttpResponse.BodyHandlers.ofString());
	}

	HttpResponse<String> post(int instance, String path, @Nullable String sessionId)
			throws IOException, InterruptedException {
		return send(request(instance, path, sessionId).POST(HttpRequest.BodyPublishers.noBody()).build());
	}

	HttpResponse<String> get(int instance, String path, @Nullable String sessionId)
			throws IOException, InterruptedException {
		return send(request(instance, path, sessionId).build());
	}

	/** A new session with the counter at 1, created on the instance; its id. */
	String newSession(int instance) throws IOException, InterruptedException {
		HttpResponse<String> created = post(instance, "/counter", null);
		assertThat(created.statusCode()).isEqualTo(200);
		return created.body().split(" ")[0];
	}

	/** The counter of the session as an instance reads it. */
	int counter(int instance, String sessionId) throws IOException, InterruptedException {
		return Integer.parseInt(get(instance, "/counter", sessionId).body().split(" ")[1]);
	}

	/** The id of the node that holds the session's lock item, as an instance sees the nodes. */
	String lockNode(int instance, String sessionId) {
		MemcachedNode node = this.contexts.get(instance).getBean(SessionLocks.class).lockNode(sessionId);
		assertThat(node).as("a node up to hold the lock of " + sessionId).isNotNull();
		return node.id();
	}

	/** Drains every instance's backup queue, so that what the nodes counted is final. */
	void awaitBackupWrites() {
		this.contexts.forEach((app) -> app.getBean(MemcachedSessionRepository.class).awaitBackupWrites());
	}

	<T> Future<T> submit(Callable<T> task) {
		return this.pool.submit(task);
	}

	/** Runs the tasks on their own threads, released together by one latch; answers in order. */
	<T> List<T> runTogether(List<Callable<T>> tasks) throws Exception {
		CountDownLatch ready = new CountDownLatch(tasks.size());
		CountDownLatch go = new CountDownLatch(1);
		List<Future<T>> futures = new ArrayList<>();
		for (Callable<T> task : tasks) {
			futures.add(this.pool.submit(() -> {
				ready.countDown();
				go.await();
				return task.call();
			}));
		}
		assertThat(ready.await(10, TimeUnit.SECONDS)).as("all request threads ready").isTrue();
		go.countDown();
		List<T> results = new ArrayList<>();
		for (Future<T> future : futures) {
			results.add(future.get(60, TimeUnit.SECONDS));
		}
		return results;
	}

	/** {@code msm.lock.requests} of that outcome, summed over the given instances. */
	double lockRequests(String outcome, int... instances) {
		double sum = 0;
		for (int instance : instances) {
			Counter counter = registry(instance).find("msm.lock.requests").tag("outcome", outcome).counter();
			sum += (counter != null) ? counter.count() : 0;
		}
		return sum;
	}

	/** {@code msm.lock.wait} of that outcome on one instance. */
	@Nullable Timer lockWait(int instance, String outcome) {
		return registry(instance).find("msm.lock.wait").tag("outcome", outcome).timer();
	}

	private MeterRegistry registry(int instance) {
		return this.contexts.get(instance).getBean(MeterRegistry.class);
	}

	@Override
	public void close() {
		this.pool.shutdownNow();
		this.contexts.forEach(ConfigurableApplicationContext::close);
		this.contexts.clear();
	}

}
