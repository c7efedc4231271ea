package io.github.msm.sample;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
 * With {@code msm.index-principal=true}, sessions are found by user name: Boot's
 * {@code /actuator/sessions?username=} lists them, and Spring Security's concurrent
 * session control (the sample allows two sessions per user) expires the oldest session
 * at a third login.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "msm.index-principal=true", "management.endpoints.web.exposure.include=sessions" })
@DirtiesContext
class SessionsByUserIT {

	private static final Pattern CSRF_FIELD = Pattern.compile("name=\"_csrf\"[^>]*value=\"([^\"]+)\"");

	private static final Pattern CSRF_TOKEN = Pattern.compile("\"token\"\\s*:\\s*\"([^\"]+)\"");

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@DynamicPropertySource
	static void memcachedNodes(DynamicPropertyRegistry registry) {
		registry.add("msm.nodes", memcached::nodesProperty);
	}

	@LocalServerPort
	private int port;

	@Test
	void sessionsEndpoint_AfterTwoLoginsOfOneUser_ShouldListBothSessions() {
		String first = logIn("demo");
		String second = logIn("demo");

		String sessions = sessionsOf("demo");

		assertThat(first).isNotEqualTo(second);
		assertThat(sessions).contains("\"id\":\"" + first + "\"", "\"id\":\"" + second + "\"");
	}

	@Test
	void sessionsEndpoint_ShouldNotListSessionsOfOtherUsers() {
		String alice = logIn("alice");
		logIn("demo");

		assertThat(sessionsOf("demo")).doesNotContain(alice);
	}

	@Test
	void logout_ShouldRemoveTheSessionFromTheUsersSessions() {
		ApiClient leaving = ApiClient.forPort(this.port);
		String left = logIn(leaving, "demo");
		String staying = logIn("demo");

		HttpResponse<String> logout = leaving.postForm("/logout", "_csrf=" + encode(csrfToken(leaving)));

		assertThat(logout.statusCode()).isEqualTo(302);
		assertThat(sessionsOf("demo")).doesNotContain(left).contains(staying);
	}

	@Test
	void thirdLogin_BeyondMaximumSessions_ShouldExpireTheOldestSession() {
		ApiClient oldest = ApiClient.forPort(this.port);
		String expired = logIn(oldest, "demo");
		String second = logIn("demo");
		String third = logIn("demo");

		HttpResponse<String> next = oldest.get("/api/session");

		assertThat(next.body()).contains("This session has been expired");
		assertThat(sessionsOf("demo")).doesNotContain(expired).contains(second, third);
	}

	private String sessionsOf(String username) {
		HttpResponse<String> response = ApiClient.forPort(this.port).get("/actuator/sessions?username=" + username);
		assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
		return response.body();
	}

	private String logIn(String username) {
		return logIn(ApiClient.forPort(this.port), username);
	}

	/** Logs in (the password is the user name) and answers the session id after login. */
	private static String logIn(ApiClient client, String username) {
		HttpResponse<String> page = client.get("/login");
		Matcher csrf = CSRF_FIELD.matcher(page.body());
		assertThat(csrf.find()).as("CSRF field on the login page").isTrue();
		HttpResponse<String> login = client.postForm("/login", "username=" + encode(username) + "&password="
				+ encode(username) + "&_csrf=" + encode(csrf.group(1)));
		assertThat(login.headers().firstValue("Location")).hasValueSatisfying(
				(location) -> assertThat(location).doesNotContain("error"));
		return client.session().sessionId();
	}

	private static String csrfToken(ApiClient client) {
		Matcher token = CSRF_TOKEN.matcher(client.get("/csrf").body());
		assertThat(token.find()).as("CSRF token").isTrue();
		return token.group(1);
	}

	private static String encode(String value) {
		return URLEncoder.encode(value, StandardCharsets.UTF_8);
	}

}
