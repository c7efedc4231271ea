package io.github.msm.test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit extension that runs a real twemproxy ({@code nutcracker}, Debian package
 * {@code nutcracker}) on a free loopback port in front of the servers of a
 * {@link MemcachedServers}, which must be registered before it ({@code @Order}: JUnit
 * does not keep the declaration order of extension fields).
 *
 * <pre class="code">
 * &#64;RegisterExtension
 * &#64;Order(1)
 * static final MemcachedServers memcached = MemcachedServers.nodes(2);
 *
 * &#64;RegisterExtension
 * &#64;Order(2)
 * static final Twemproxy twemproxy = Twemproxy.over(memcached);
 * </pre>
 *
 * The pool uses ketama over the servers, the memcached text protocol (twemproxy has no
 * binary one) and ejects a server after one failure, as a production pool would.
 */
public final class Twemproxy implements BeforeAllCallback, AfterAllCallback {

	private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

	private final MemcachedServers servers;

	private Path directory;

	private Process process;

	private int port;

	private Twemproxy(MemcachedServers servers) {
		this.servers = servers;
	}

	public static Twemproxy over(MemcachedServers servers) {
		return new Twemproxy(servers);
	}

	/** {@code 127.0.0.1:port}: the single plain node for {@code msm.nodes}. */
	public String address() {
		return "127.0.0.1:" + this.port;
	}

	@Override
	public void beforeAll(ExtensionContext context) throws Exception {
		this.directory = Files.createTempDirectory("msm-twemproxy");
		this.port = freePort();
		Path config = this.directory.resolve("nutcracker.yml");
		Files.writeString(config, config(this.port, this.servers.all()));
		List<String> command = List.of(binary(), "-c", config.toString(), "-s", String.valueOf(freePort()), "-a",
				"127.0.0.1", "-o", this.directory.resolve("nutcracker.log").toString());
		this.process = new ProcessBuilder(command).redirectErrorStream(true)
			.redirectOutput(this.directory.resolve("nutcracker.out").toFile())
			.start();
		Instant deadline = Instant.now().plus(START_TIMEOUT);
		while (!answersVersion(this.port)) {
			if (!this.process.isAlive() || Instant.now().isAfter(deadline)) {
				this.process.destroyForcibly();
				throw new IllegalStateException("nutcracker did not start on port " + this.port + ": "
						+ Files.readString(this.directory.resolve("nutcracker.out")));
			}
			Thread.sleep(20);
		}
	}

	@Override
	public void afterAll(ExtensionContext context) throws Exception {
		if (this.process != null) {
			this.process.destroyForcibly();
			this.process.waitFor();
		}
	}

	private static String config(int port, List<MemcachedServer> servers) {
		String list = servers.stream()
			.map((server) -> "    - " + server.address() + ":1 " + server.nodeId())
			.collect(Collectors.joining("\n"));
		return """
				msm:
				  listen: 127.0.0.1:%d
				  hash: fnv1a_64
				  distribution: ketama
				  timeout: 1000
				  auto_eject_hosts: true
				  server_retry_timeout: 2000
				  server_failure_limit: 1
				  servers:
				%s
				""".formatted(port, list);
	}

	private static boolean answersVersion(int port) {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
			socket.setSoTimeout(1000);
			socket.getOutputStream().write("version\r\n".getBytes(StandardCharsets.US_ASCII));
			InputStream in = socket.getInputStream();
			byte[] answer = new byte[7];
			return in.readNBytes(answer, 0, 7) == 7 && new String(answer, StandardCharsets.US_ASCII).equals("VERSION");
		}
		catch (IOException ex) {
			return false;
		}
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
	}

	private static String binary() {
		for (String candidate : List.of("/usr/sbin/nutcracker", "/usr/bin/nutcracker", "/usr/local/sbin/nutcracker",
				"/usr/local/bin/nutcracker")) {
			if (Files.isExecutable(Path.of(candidate))) {
				return candidate;
			}
		}
		throw new IllegalStateException("twemproxy is not installed: run 'apt-get install -y nutcracker' (or bash .ci/run)");
	}

}
