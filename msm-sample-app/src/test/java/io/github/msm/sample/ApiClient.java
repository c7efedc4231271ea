package io.github.msm.sample;

import java.net.http.HttpResponse;

import io.github.msm.test.SessionHttpClient;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sample app's JSON API over {@link SessionHttpClient}.
 */
final class ApiClient {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private final SessionHttpClient http;

	ApiClient(String baseUrl) {
		this.http = new SessionHttpClient(baseUrl);
	}

	static ApiClient forPort(int port) {
		return new ApiClient("http://127.0.0.1:" + port);
	}

	HttpResponse<String> get(String path) {
		return this.http.get(path);
	}

	/** A {@code GET} that sends only the given session id, whatever the cookie jar holds. */
	HttpResponse<String> getWithSessionCookie(String path, String sessionId) {
		return this.http.getWithSessionCookie(path, sessionId);
	}

	HttpResponse<String> post(String path) {
		return this.http.post(path);
	}

	HttpResponse<String> postForm(String path, String form) {
		return this.http.postForm(path, form);
	}

	HttpResponse<String> put(String path, String text) {
		return this.http.put(path, text);
	}

	HttpResponse<String> delete(String path) {
		return this.http.delete(path);
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
		return this.http.sessionCookie();
	}

}
