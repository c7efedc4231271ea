package io.github.msm.test;

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

/**
 * A browser stand-in for tests: real HTTP with a cookie jar, redirects not followed, so
 * tests see exactly which session cookie the server sets.
 */
public final class SessionHttpClient {

	private final String baseUrl;

	private final CookieManager cookies = new CookieManager();

	private final HttpClient http;

	public SessionHttpClient(String baseUrl) {
		this.baseUrl = baseUrl;
		this.http = HttpClient.newBuilder()
			.cookieHandler(this.cookies)
			.connectTimeout(Duration.ofSeconds(5))
			.followRedirects(HttpClient.Redirect.NEVER)
			.build();
	}

	public static SessionHttpClient forPort(int port) {
		return new SessionHttpClient("http://127.0.0.1:" + port);
	}

	public HttpResponse<String> get(String path) {
		return send("GET", path, BodyPublishers.noBody(), null);
	}

	/** A {@code GET} that sends only the given session cookie value, whatever the jar holds. */
	public HttpResponse<String> getWithSessionCookie(String path, String sessionId) {
		return send(HttpRequest.newBuilder(URI.create(this.baseUrl + path))
			.timeout(Duration.ofSeconds(10))
			.header("Cookie", "SESSION=" + sessionId)
			.build());
	}

	public HttpResponse<String> post(String path) {
		return send("POST", path, BodyPublishers.noBody(), null);
	}

	public HttpResponse<String> postForm(String path, String form) {
		return send("POST", path, BodyPublishers.ofString(form), "application/x-www-form-urlencoded");
	}

	/** A {@code POST} of a JSON body with extra headers (such as a CSRF token). */
	public HttpResponse<String> postJson(String path, String json, java.util.Map<String, String> headers) {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(this.baseUrl + path))
			.timeout(Duration.ofSeconds(10))
			.header("Content-Type", "application/json")
			.POST(BodyPublishers.ofString(json));
		headers.forEach(request::header);
		return send(request.build());
	}

	public HttpResponse<String> put(String path, String text) {
		return send("PUT", path, BodyPublishers.ofString(text), "text/plain");
	}

	public HttpResponse<String> delete(String path) {
		return send("DELETE", path, BodyPublishers.noBody(), null);
	}

	/** The value of the {@code SESSION} cookie the server last set, or {@code null}. */
	public @Nullable String sessionCookie() {
		return this.cookies.getCookieStore()
			.getCookies()
			.stream()
			.filter((cookie) -> cookie.getName().equals("SESSION"))
			.map(HttpCookie::getValue)
			.findFirst()
			.orElse(null);
	}

	/** Whether the server has set any cookie at all. */
	public boolean hasCookies() {
		return !this.cookies.getCookieStore().getCookies().isEmpty();
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
		try {
			return this.http.send(request, BodyHandlers.ofString());
		}
		catch (IOException ex) {
			throw new IllegalStateException(request.method() + " " + request.uri() + " failed", ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(request.method() + " " + request.uri() + " interrupted", ex);
		}
	}

}
