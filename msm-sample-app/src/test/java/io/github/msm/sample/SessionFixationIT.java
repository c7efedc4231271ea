package io.github.msm.sample;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.github.msm.test.MemcachedServer;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Logging in gives the session a new id, keeps its data, and leaves the old id useless.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
@DirtiesContext
class SessionFixationIT {

	private static final Pattern CSRF_FIELD = Pattern.compile("name=\"_csrf\"[^>]*value=\"([^\"]+)\"");

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@DynamicPropertySource
	static void memcachedNodes(DynamicPropertyRegistry registry) {
		registry.add("msm.nodes", memcached::nodesProperty);
	}

	@LocalServerPort
	private int port;

	@Test
	void login_ShouldChangeTheSessionIdAndKeepTheSessionData() {
		ApiClient client = ApiClient.forPort(this.port);
		SessionView anonymous = client.increment();

		HttpResponse<String> login = logIn(client, "demo", "demo");

		assertThat(login.statusCode()).isEqualTo(302);
		assertThat(login.headers().firstValue("Location")).hasValueSatisfying(
				(location) -> assertThat(location).doesNotContain("error"));
		SessionView loggedIn = client.session();
		assertThat(loggedIn.sessionId()).isNotEqualTo(anonymous.sessionId());
		assertThat(loggedIn.user()).isEqualTo("demo");
		assertThat(loggedIn.counter()).isEqualTo(1);
	}

	@Test
	void login_ShouldMakeThePreLoginIdUseless() {
		ApiClient client = ApiClient.forPort(this.port);
		String preLoginId = client.session().sessionId();
		logIn(client, "demo", "demo");

		ApiClient attacker = ApiClient.forPort(this.port);
		HttpResponse<String> withOldId = attacker.getWithSessionCookie("/api/session", preLoginId);

		SessionView session = ApiClient.view(withOldId);
		assertThat(session.sessionId()).isNotEqualTo(preLoginId);
		assertThat(session.user()).isNull();
		for (MemcachedServer node : memcached.all()) {
			// gone, or a tombstone (2 bytes, 'T') that keeps late writes from bringing it back
			assertThat(node.get(preLoginId)).as("data of the pre-login id on " + node.nodeId())
				.satisfiesAnyOf((bytes) -> assertThat(bytes).isNull(), (bytes) -> assertThat(bytes).hasSize(2).startsWith((byte) 'T'));
		}
	}

	@Test
	void login_WithWrongPassword_ShouldStayAnonymous() {
		ApiClient client = ApiClient.forPort(this.port);

		HttpResponse<String> login = logIn(client, "demo", "wrong");

		assertThat(login.headers().firstValue("Location")).hasValueSatisfying(
				(location) -> assertThat(location).endsWith("/login?error"));
		assertThat(client.session().user()).isNull();
	}

	private static HttpResponse<String> logIn(ApiClient client, String username, String password) {
		HttpResponse<String> page = client.get("/login");
		assertThat(page.statusCode()).isEqualTo(200);
		Matcher csrf = CSRF_FIELD.matcher(page.body());
		assertThat(csrf.find()).as("CSRF field on the login page").isTrue();
		return client.postForm("/login", "username=" + encode(username) + "&password=" + encode(password) + "&_csrf="
				+ encode(csrf.group(1)));
	}

	private static String encode(String value) {
		return URLEncoder.encode(value, StandardCharsets.UTF_8);
	}

}
