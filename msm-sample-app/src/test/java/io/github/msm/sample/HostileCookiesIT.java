package io.github.msm.sample;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.github.msm.sample.HostileCookies.Kind;
import io.github.msm.sample.HostileCookies.Value;
import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.test.MemcachedServer;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 10,000 generated hostile {@code SESSION} cookies sent as raw bytes over real HTTP to
 * the sample app (Tomcat, Spring Security, Spring Session, the store) on two memcached
 * nodes shared with "another application": CR/LF, spaces, NUL, 300+ bytes, Unicode,
 * %-encoding, unknown nodes, the other application's ids and our own key names, memcached
 * commands. No request fails with a 5xx; every request that needs a session gets a fresh
 * one; memcached saw no flush, no delete and no key outside our prefix, and nothing read
 * the other application's items.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
@DirtiesContext
class HostileCookiesIT {

	private static final int COUNT = 10_000;

	private static final String PREFIX = "shop_";

	private static final String OTHER_PREFIX = "other_";

	private static final Pattern STATUS = Pattern.compile("^HTTP/1\\.1 (\\d{3})");

	private static final Pattern SESSION_COOKIE = Pattern.compile("(?im)^Set-Cookie: SESSION=([^;\\r\\n]*)");

	private static final Pattern CONTENT_LENGTH = Pattern.compile("(?im)^Content-Length: (\\d+)");

	private static final Pattern CHUNKED = Pattern.compile("(?im)^Transfer-Encoding: chunked");

	private static final Pattern ISSUED_ID = Pattern.compile("[0-9a-f]{32}-n[12]");

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@DynamicPropertySource
	static void memcachedNodes(DynamicPropertyRegistry registry) {
		registry.add("msm.nodes", memcached::nodesProperty);
		registry.add("msm.key-prefix", () -> PREFIX);
	}

	@LocalServerPort
	private int port;

	@Autowired
	private MemcachedSessionRepository repository;

	@Test
	void requests_WithTenThousandHostileCookies_ShouldNeverFailAndNeverTouchForeignKeys() throws Exception {
		Map<String, byte[]> otherApp = plantOtherApplicationSessions();
		List<String> otherIds = otherApp.keySet().stream().map((key) -> key.substring(key.indexOf('_') + 1)).toList();
		List<Value> values = new HostileCookies(20261202L, otherIds, OTHER_PREFIX, PREFIX).values(COUNT);
		memcached.resetStats();

		long start = System.nanoTime();
		List<Outcome> outcomes = sendAll(values);
		Duration took = Duration.ofNanos(System.nanoTime() - start);
		this.repository.awaitBackupWrites();

		Map<String, Integer> byStatus = new TreeMap<>();
		outcomes.forEach((outcome) -> byStatus.merge(outcome.status() + " " + outcome.request().method(), 1, Integer::sum));
		Map<Kind, Map<Integer, Integer>> byKind = new TreeMap<>();
		outcomes.forEach((outcome) -> byKind.computeIfAbsent(outcome.kind(), (kind) -> new TreeMap<>())
			.merge(outcome.status(), 1, Integer::sum));
		System.out.println("HostileCookiesIT: " + COUNT + " hostile cookies in " + took.toMillis() + " ms, " + byStatus
				+ ", 5xx: " + outcomes.stream().filter((outcome) -> outcome.status() >= 500).count() + ", by kind: "
				+ byKind);
		assertThat(outcomes).as("5xx or no answer").noneMatch((outcome) -> outcome.status() >= 500 || outcome.status() < 100);
		assertThat(outcomes).as("a session issued to each request that needs one")
			.filteredOn((outcome) -> outcome.request().createsSession() && outcome.status() == 200)
			.allSatisfy((outcome) -> assertThat(outcome.issuedId()).matches(ISSUED_ID)
				.isNotIn(new String(outcome.value().bytes(), StandardCharsets.ISO_8859_1)));
		assertThat(memcached.stat("cmd_flush")).isZero();
		assertThat(memcached.stat("delete_hits") + memcached.stat("delete_misses")).isZero();
		assertThat(memcached.stat("cmd_touch")).isZero();
		for (MemcachedServer node : memcached.all()) {
			Map<String, String> keys = node.keys();
			assertThat(keys.keySet()).as("keys on " + node.nodeId())
				.allMatch((key) -> key.startsWith(PREFIX) || key.startsWith("validity:" + PREFIX)
						|| key.startsWith("bak:" + PREFIX) || key.startsWith("bak:validity:" + PREFIX)
						|| otherApp.containsKey(key));
			otherApp.keySet().stream().filter((key) -> key.endsWith("-" + node.nodeId())).forEach((key) -> {
				assertThat(keys.get(key)).as("the other application's " + key).contains("fetch=no");
				assertThat(node.get(key)).isEqualTo(otherApp.get(key));
			});
		}
	}

	/**
	 * Items of another application on the same nodes: under its prefix and, as an
	 * application without a prefix would keep them, under the bare id.
	 */
	private static Map<String, byte[]> plantOtherApplicationSessions() {
		Random random = new Random(7);
		Map<String, byte[]> planted = new java.util.LinkedHashMap<>();
		for (int i = 0; i < 40; i++) {
			byte[] base = new byte[16];
			random.nextBytes(base);
			MemcachedServer node = memcached.node(i % 2);
			String id = HexFormat.of().formatHex(base) + "-" + node.nodeId();
			String key = (i % 4 < 2) ? OTHER_PREFIX + id : id;
			byte[] value = ("other application's session " + i).getBytes(StandardCharsets.US_ASCII);
			node.set(key, value, 0);
			planted.put(key, value);
		}
		return planted;
	}

	private List<Outcome> sendAll(List<Value> values) throws Exception {
		ExecutorService pool = Executors.newFixedThreadPool(8);
		try {
			List<Future<Outcome>> futures = new ArrayList<>(values.size());
			Random random = new Random(values.size());
			for (int i = 0; i < values.size(); i++) {
				Value value = values.get(i);
				Request request = Request.values()[random.nextInt(Request.values().length)];
				futures.add(pool.submit(() -> send(request, value)));
			}
			List<Outcome> outcomes = new ArrayList<>(values.size());
			for (Future<Outcome> future : futures) {
				outcomes.add(future.get());
			}
			return outcomes;
		}
		finally {
			pool.shutdownNow();
		}
	}

	/**
	 * One request on its own connection, the cookie as raw bytes, so that what no HTTP
	 * client would send (CR/LF, NUL) reaches Tomcat as it is. No answer counts as status 0.
	 */
	private Outcome send(Request request, Value value) throws IOException {
		ByteArrayOutputStream bytes = new ByteArrayOutputStream();
		bytes.writeBytes((request.method() + " " + request.path() + " HTTP/1.1\r\nHost: 127.0.0.1:" + this.port
				+ "\r\nCookie: SESSION=").getBytes(StandardCharsets.US_ASCII));
		bytes.writeBytes(value.bytes());
		bytes.writeBytes("\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress("127.0.0.1", this.port), 5000);
			socket.setSoTimeout(5_000);
			OutputStream out = socket.getOutputStream();
			out.write(bytes.toByteArray());
			out.flush();
			String response = firstResponse(new BufferedInputStream(socket.getInputStream()));
			Matcher status = STATUS.matcher(response);
			Matcher cookie = SESSION_COOKIE.matcher(response);
			return new Outcome(request, value, status.find() ? Integer.parseInt(status.group(1)) : 0,
					cookie.find() ? cookie.group(1) : null);
		}
	}

	/**
	 * The head and body of the first response. A cookie with CR/LF can end the request
	 * early and leave the rest to be read as a second, kept-alive request, so the
	 * connection's end is not waited for.
	 */
	private static String firstResponse(InputStream in) throws IOException {
		String headers = readUntil(in, "\r\n\r\n");
		Matcher length = CONTENT_LENGTH.matcher(headers);
		if (length.find()) {
			in.readNBytes(Integer.parseInt(length.group(1)));
		}
		else if (CHUNKED.matcher(headers).find()) {
			readUntil(in, "0\r\n\r\n");
		}
		return headers;
	}

	private static String readUntil(InputStream in, String end) throws IOException {
		StringBuilder read = new StringBuilder();
		int b;
		while ((read.length() < end.length() || read.lastIndexOf(end) != read.length() - end.length())
				&& (b = in.read()) >= 0) {
			read.append((char) b);
		}
		return read.toString();
	}

	/** The requests the cookies are sent with, in turn. */
	private enum Request {

		READ("GET", "/api/session", true),

		WRITE("POST", "/api/counter", true),

		READ_AGAIN("GET", "/api/session", true),

		INVALIDATE("DELETE", "/api/session", false);

		private final String method;

		private final String path;

		private final boolean createsSession;

		Request(String method, String path, boolean createsSession) {
			this.method = method;
			this.path = path;
			this.createsSession = createsSession;
		}

		String method() {
			return this.method;
		}

		String path() {
			return this.path;
		}

		boolean createsSession() {
			return this.createsSession;
		}

	}

	private record Outcome(Request request, Value value, int status, String issuedId) {

		Kind kind() {
			return this.value.kind();
		}

	}

}
