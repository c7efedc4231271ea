package io.github.msm.sample;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.test.MemcachedServers;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.context.ConfigurableApplicationContext;

import static io.github.msm.sample.LoadSupport.sessionCookie;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sticky mode through real HTTP: two instances of the sample app with
 * {@code msm.sticky=true} and routes {@code app1}, {@code app2}, and nginx in front routing
 * by the route at the end of the {@code SESSION} cookie, configured as README's "Sticky
 * mode" section shows ({@link NginxProxy#startSticky}). The tests that name an instance
 * send to it directly, as a balancer that moved the user would.
 *
 * <p>
 * The last test stops an instance, so it runs last.
 */
@Timeout(180)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StickyNginxIT {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(3);

	private static final List<String> ROUTES = List.of("app1", "app2");

	private static final SampleApps apps = new SampleApps(Duration.ofSeconds(10));

	private static final Map<String, ConfigurableApplicationContext> contexts = new LinkedHashMap<>();

	@TempDir
	static Path temp;

	private static NginxProxy nginx;

	@BeforeAll
	static void startStickyInstancesBehindNginx() throws IOException {
		for (String route : ROUTES) {
			contexts.put(route,
					SampleApps.startApp(memcached, route, "--msm.sticky=true", "--msm.jvm-route=" + route));
		}
		Map<String, Integer> ports = new LinkedHashMap<>();
		contexts.forEach((route, context) -> ports.put(route, SampleApps.port(context)));
		nginx = NginxProxy.startSticky(Files.createDirectory(temp.resolve("nginx")), ports);
	}

	@AfterAll
	static void stopAll() throws IOException {
		if (nginx != null) {
			nginx.close();
			Files.createDirectories(Path.of("target"));
			Files.copy(nginx.accessLog(), Path.of("target", "sticky-nginx-access.log"),
					StandardCopyOption.REPLACE_EXISTING);
		}
		contexts.values().forEach(ConfigurableApplicationContext::close);
		apps.close();
	}

	@Test
	void incrementsThroughNginx_ShouldStayOnTheInstanceTheCookieRoutes() {
		ApiClient browser = new ApiClient(nginx.url());
		SessionView first = browser.increment();
		String route = routeOf(first.sessionId());
		assertThat(ROUTES).contains(route);
		assertThat(first.instance()).isEqualTo(route);
		for (int counter = 2; counter <= 20; counter++) {
			SessionView view = browser.increment();
			assertThat(view.instance()).as("instance of increment %d", counter).isEqualTo(route);
			assertThat(view.counter()).isEqualTo(counter);
			assertThat(view.sessionId()).isEqualTo(first.sessionId());
		}
	}

	@Test
	void requestOnAnotherInstance_ShouldTakeTheSessionOverUnderItsRouteWithSameBaseAndNode() throws Exception {
		String onApp1 = createWithAttribute("app1");

		HttpResponse<String> response = apps.send(request("app2", "/api/session", onApp1).GET().build());

		assertThat(response.statusCode()).isEqualTo(200);
		String taken = sessionCookie(response);
		assertThat(taken).isNotNull().isEqualTo(withRoute(onApp1, "app2"));
		SessionView view = ApiClient.view(response);
		assertThat(view.sessionId()).isEqualTo(taken);
		assertThat(view.instance()).isEqualTo("app2");
		assertThat(view.counter()).isEqualTo(1);
		assertThat(view.attributes()).containsEntry("colour", "green");
	}

	@Test
	void backOnTheFirstInstance_AfterATakeover_ShouldServeTheOtherInstancesState() throws Exception {
		String onApp1 = createWithAttribute("app1");
		// app1 now holds a local copy: counter 1, colour green
		HttpResponse<String> onApp2 = apps.send(request("app2", "/api/counter", onApp1).POST(BodyPublishers.noBody())
			.build());
		String taken = sessionCookie(onApp2);
		assertThat(taken).isNotNull();
		HttpResponse<String> changed = apps.send(request("app2", "/api/attributes/colour", taken)
			.header("Content-Type", "text/plain")
			.PUT(BodyPublishers.ofString("blue"))
			.build());
		assertThat(ApiClient.view(changed).counter()).isEqualTo(2);

		HttpResponse<String> back = apps.send(request("app1", "/api/session", taken).GET().build());

		SessionView view = ApiClient.view(back);
		assertThat(view.instance()).isEqualTo("app1");
		assertThat(view.counter()).as("app2's counter, not app1's stale copy (msm #153)").isEqualTo(2);
		assertThat(view.attributes()).containsEntry("colour", "blue");
		assertThat(sessionCookie(back)).isEqualTo(onApp1);
	}

	@Test
	void unmodifiedRequestsThroughNginx_OnTheOwner_ShouldMakeNoMemcachedGetSetOrTouch() {
		ApiClient browser = new ApiClient(nginx.url());
		SessionView created = browser.increment();
		browser.session();
		contexts.values().forEach((app) -> app.getBean(MemcachedSessionRepository.class).awaitBackupWrites());
		memcached.resetStats();

		for (int i = 0; i < 100; i++) {
			SessionView view = browser.session();
			assertThat(view.sessionId()).isEqualTo(created.sessionId());
			assertThat(view.instance()).isEqualTo(created.instance());
		}

		assertThat(memcached.stat("cmd_get")).as("gets").isZero();
		assertThat(memcached.stat("cmd_set")).as("sets").isZero();
		assertThat(memcached.stat("cmd_touch")).as("touches").isZero();
	}

	@Test
	@Order(Integer.MAX_VALUE)
	void instanceOfTheRouteStopped_ShouldLetNginxSendTheUserToTheOtherWhichTakesTheSessionOver() {
		ApiClient browser = new ApiClient(nginx.url());
		SessionView first = browser.increment();
		browser.increment();
		String owner = first.instance();
		String other = ROUTES.get(1 - ROUTES.indexOf(owner));

		contexts.remove(owner).close();
		SessionView view = browser.increment();

		assertThat(view.instance()).isEqualTo(other);
		assertThat(view.counter()).isEqualTo(3);
		assertThat(view.sessionId()).isEqualTo(withRoute(first.sessionId(), other));
		assertThat(browser.sessionCookie()).isEqualTo(view.sessionId());
		assertThat(browser.increment().instance()).as("the next request, by the new route").isEqualTo(other);
	}

	/** Creates a session on an instance: counter 1 and {@code colour=green}; its id. */
	private static String createWithAttribute(String route) throws Exception {
		HttpResponse<String> created = apps.send(request(route, "/api/counter", null).POST(BodyPublishers.noBody())
			.build());
		String id = sessionCookie(created);
		assertThat(id).isNotNull().endsWith("." + route);
		HttpResponse<String> set = apps.send(request(route, "/api/attributes/colour", id)
			.header("Content-Type", "text/plain")
			.PUT(BodyPublishers.ofString("green"))
			.build());
		assertThat(ApiClient.view(set).attributes()).containsEntry("colour", "green");
		return id;
	}

	private static HttpRequest.Builder request(String route, String path, @Nullable String sessionId) {
		HttpRequest.Builder request = HttpRequest
			.newBuilder(URI.create("http://127.0.0.1:" + SampleApps.port(contexts.get(route)) + path))
			.timeout(Duration.ofSeconds(10));
		if (sessionId != null) {
			request.header("Cookie", "SESSION=" + sessionId);
		}
		return request;
	}

	private static String routeOf(String sessionId) {
		return sessionId.substring(sessionId.lastIndexOf('.') + 1);
	}

	/** The id with another route: {@code <base>-n1.app1} → {@code <base>-n1.app2}. */
	private static String withRoute(String sessionId, String route) {
		return sessionId.substring(0, sessionId.lastIndexOf('.') + 1) + route;
	}

}
