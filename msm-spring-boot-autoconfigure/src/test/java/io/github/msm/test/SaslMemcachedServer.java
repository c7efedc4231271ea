package io.github.msm.test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit extension that runs one real memcached with SASL ({@code -S}) on a free loopback
 * port, with its own sasldb in a temporary directory holding one user.
 *
 * <p>
 * Cyrus SASL finds its configuration through {@code SASL_CONF_PATH}: the directory holds
 * a {@code memcached.conf} with {@code mech_list: plain} and the path of the sasldb that
 * {@code saslpasswd2} (Debian package {@code sasl2-bin}) created. memcached with
 * {@code -S} speaks only the binary protocol and closes a text connection at its first
 * command, so unlike {@link MemcachedServer} this class offers no text-protocol checks.
 */
public final class SaslMemcachedServer implements BeforeAllCallback, AfterAllCallback {

	private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

	private final String username;

	private final String password;

	private Process process;

	private int port;

	private SaslMemcachedServer(String username, String password) {
		this.username = username;
		this.password = password;
	}

	/** A server that knows exactly this user. */
	public static SaslMemcachedServer withUser(String username, String password) {
		return new SaslMemcachedServer(username, password);
	}

	/** {@code 127.0.0.1:port}, a single plain node for {@code msm.nodes}. */
	public String address() {
		return "127.0.0.1:" + this.port;
	}

	/** {@code id:127.0.0.1:port}. */
	public String nodeSpec(String nodeId) {
		return nodeId + ":" + address();
	}

	@Override
	public void beforeAll(ExtensionContext context) throws Exception {
		Path directory = Files.createTempDirectory("msm-sasl");
		Path sasldb = directory.resolve("sasldb");
		createUser(sasldb);
		Files.writeString(directory.resolve("memcached.conf"),
				"mech_list: plain\nsasldb_path: " + sasldb.toAbsolutePath() + "\n");
		this.port = freePort();
		List<String> command = new ArrayList<>(List.of(binary("memcached"), "-S", "-p", String.valueOf(this.port),
				"-U", "0", "-l", "127.0.0.1", "-m", "64", "-t", "2"));
		if ("root".equals(System.getProperty("user.name"))) {
			command.addAll(List.of("-u", "root"));
		}
		ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
			.redirectOutput(directory.resolve("memcached.out").toFile());
		builder.environment().put("SASL_CONF_PATH", directory.toAbsolutePath().toString());
		this.process = builder.start();
		Instant deadline = Instant.now().plus(START_TIMEOUT);
		while (!accepts(this.port)) {
			if (!this.process.isAlive() || Instant.now().isAfter(deadline)) {
				this.process.destroyForcibly();
				throw new IllegalStateException("memcached -S did not start on port " + this.port);
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

	/** {@code saslpasswd2 -a memcached -c -p -f <sasldb> <user>}, the password on stdin. */
	private void createUser(Path sasldb) throws IOException, InterruptedException {
		Process saslpasswd = new ProcessBuilder(binary("saslpasswd2"), "-a", "memcached", "-c", "-p", "-f",
				sasldb.toString(), this.username)
			.redirectErrorStream(true)
			.start();
		try (OutputStream in = saslpasswd.getOutputStream()) {
			in.write(this.password.getBytes(StandardCharsets.UTF_8));
		}
		String output = new String(saslpasswd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		if (saslpasswd.waitFor() != 0) {
			throw new IllegalStateException("saslpasswd2 failed: " + output);
		}
	}

	private static boolean accepts(int port) {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
			return true;
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

	private static String binary(String name) {
		for (String dir : List.of("/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin")) {
			if (Files.isExecutable(Path.of(dir, name))) {
				return Path.of(dir, name).toString();
			}
		}
		throw new IllegalStateException(name + " is not installed: run 'apt-get install -y memcached sasl2-bin'"
				+ " (or bash .ci/run)");
	}

}
