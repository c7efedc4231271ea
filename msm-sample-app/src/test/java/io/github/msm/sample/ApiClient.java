package io.github.msm.sample;

import java.io.IOException;
import java.net.CookieManager;
import java.net.HttpCookie;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A browser stand-in for the tests: real HTTP with a cookie jar, no redirects followed.
 */
final class ApiClient {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private final String baseUrl;

	private final CookieManager cookies = new CookieManager();

	private final HttpClient http;

	ApiClient(String baseUrl) {
		this.baseUrl = baseUrl;
		this.http = HttpClient.newBuilder()
			.cookieHandler(this.cookies)
			.connectTimeout(Duration.ofSeconds(5))
			.followRedirects(HttpClient.Redirect.NEVER)
			.build();
	}

	static ApiClient forPort(int port) {
		return new ApiClient("http://127.0.0.1:" + port);
	}

	HttpResponse<String> get(String path) {
		return send("GET", path, BodyPublishers.noBody(), null);
	}

	/** A {@code GET} that sends only the given session id, whatever the cookie jar holds. */
	HttpResponse<String> getWithSessionCookie(String path, String sessionId) {
		HttpRequest request = HttpRequest.newBuilder(URI.create(this.baseUrl + path))
			.timeout(Duration.ofSeconds(10))
			.header("Cookie", "SESSION=" + sessionId)
			.build();
		return send(request);
	}

	HttpResponse<String> post(String path) {
		return send("POST", path, BodyPublishers.noBody(), null);
	}

	HttpResponse<String> postForm(String path, String form) {
		return send("POST", path, BodyPublishers.ofString(form), "application/x-www-form-urlencoded");
	}

	HttpResponse<String> put(String path, String text) {
		return send("PUT", path, BodyPublishers.ofString(text), "text/plain");
	}

	HttpResponse<String> delete(String path) {
		return send("DELETE", path, BodyPublishers.noBody(), null);
	}

	/** {@code GET /api/session}, expecting 200. */
	SessionView session() {
		return view(get("/api/session"));
	}

	/** {@code POST /api/counter}, expecting 200. */
	SessionView increment() {
		return view(post("/api/counter"));
	}

	static SessionView view(HttpResponse<String> response) {
		assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
		assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
				(type) -> assertThat(type).startsWith("application/json"));
		return JSON.readValue(response.body(), SessionView.class);
	}

	/** The value of the {@code SESSION} cookie the server last set, or {@code null}. */
	@Nullable String sessionCookie() {
		return this.cookies.getCookieStore()
			.getCookies()
			.stream()
			.filter((cookie) -> cookie.getName().equals("SESSION"))
			.map(HttpCookie::getValue)
			.findFirst()
			.orElse(null);
	}

	private HttpResponse<String> send(String method, String path, BodyPublisher body, @Nullable String contentType) {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(this.baseUrl + path))
			.timeout(Duration.ofSeconds(10))
			.method(method, body);
		if (contentType != null) {
			request.header("Content-Type", contentType);
		}
		return send(request.build());
	}

	private HttpResponse<String> send(HttpRequest request) {
		String method = request.method();
		URI path = request.uri();
		try {
			return this.http.send(request, BodyHandlers.ofString());
		}
		catch (IOException ex) {
			throw new IllegalStateException(method + " " + path + " failed", ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(method + " " + path + " interrupted", ex);
		}
	}

}
