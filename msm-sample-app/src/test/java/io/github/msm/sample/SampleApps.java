package io.github.msm.sample;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.test.MemcachedServers;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Instances of the sample app (one Spring Boot context each, on a random port) over the
 * nodes of a {@link MemcachedServers}, and an HTTP client that sends the
 * {@code SESSION} cookie it is given and follows no redirects.
 */
final class SampleApps implements AutoCloseable {

	private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();

	private final Duration requestTimeout;

	private final HttpClient http = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(5))
		.followRedirects(HttpClient.Redirect.NEVER)
		.build();

	SampleApps(Duration requestTimeout) {
		this.requestTimeout = requestTimeout;
	}

	/** Starts one instance per name ({@code app.instance}), one after the other. */
	void start(MemcachedServers memcached, String... names) {
		for (String name : names) {
			this.contexts.add(startApp(memcached, name));
		}
	}

	/** The same, each instance with extra arguments ({@code --msm.backup-async=false}). */
	void start(MemcachedServers memcached, List<String> arguments, String... names) {
		for (String name : names) {
			this.contexts.add(startApp(memcached, name, arguments.toArray(String[]::new)));
		}
	}

	/** One instance of the sample app over the given nodes. */
	static ConfigurableApplicationContext startApp(MemcachedServers memcached, String name, String... arguments) {
		List<String> all = new ArrayList<>(List.of("--server.port=0", "--app.instance=" + name,
				"--msm.nodes=" + memcached.nodesProperty(), "--spring.main.banner-mode=off"));
		all.addAll(List.of(arguments));
		return new SpringApplicationBuilder(SampleApplication.class).run(all.toArray(String[]::new));
	}

	static int port(ConfigurableApplicationContext context) {
		return Integer.parseInt(context.getEnvironment().getRequiredProperty("local.server.port"));
	}

	int port(int instance) {
		return port(this.contexts.get(instance));
	}

	int size() {
		return this.contexts.size();
	}

	StoreCounters counters(List<StoreCounters.Name> names) {
		return StoreCounters.read(this.contexts, names);
	}

	/** Drains every instance's backup queue, so that what the backup nodes hold is final. */
	void awaitBackupWrites() {
		this.contexts.forEach((app) -> app.getBean(MemcachedSessionRepository.class).awaitBackupWrites());
	}

	/** A request to an instance, with {@code Cookie: SESSION=<id>} if an id is given. */
	HttpRequest.Builder request(int instance, String path, @Nullable String sessionId) {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port(instance) + path))
			.timeout(this.requestTimeout);
		if (sessionId != null) {
			request.header("Cookie", "SESSION=" + sessionId);
		}
		return request;
	}

	HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
		return this.http.send(request, BodyHandlers.ofString());
	}

	/** The same without blocking: a client sending two requests at once, as a browser does. */
	CompletableFuture<HttpResponse<String>> sendAsync(HttpRequest request) {
		return this.http.sendAsync(request, BodyHandlers.ofString());
	}

	@Override
	public void close() {
		this.contexts.forEach(ConfigurableApplicationContext::close);
		this.contexts.clear();
	}

}
