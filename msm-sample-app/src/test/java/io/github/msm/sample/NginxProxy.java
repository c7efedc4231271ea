package io.github.msm.sample;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * nginx as a child process, balancing round-robin over local app ports, with its
 * configuration, pid and logs in a directory of its own.
 */
final class NginxProxy implements AutoCloseable {

	private static final Path NGINX = Path.of("/usr/sbin/nginx");

	private final Path directory;

	private final Process process;

	private final int port;

	private NginxProxy(Path directory, Process process, int port) {
		this.directory = directory;
		this.process = process;
		this.port = port;
	}

	/**
	 * Starts nginx in front of the given ports and waits until it listens.
	 * @param directory an empty directory for configuration, pid and logs
	 * @param upstreamPorts the app ports
	 * @return the running proxy
	 * @throws IOException if nginx could not be started
	 */
	static NginxProxy start(Path directory, List<Integer> upstreamPorts) throws IOException {
		if (!Files.isExecutable(NGINX)) {
			throw new IllegalStateException(NGINX + " is missing: install it with 'apt-get install -y nginx' "
					+ "(bash .ci/run does so on CI)");
		}
		int port = freePort();
		Path config = directory.resolve("nginx.conf");
		Files.writeString(config, configuration(directory, port, upstreamPorts));
		Process process = new ProcessBuilder(NGINX.toString(), "-p", directory + "/", "-e",
				directory.resolve("error.log").toString(), "-c", config.toString(), "-g", "daemon off;")
			.redirectErrorStream(true)
			.redirectOutput(directory.resolve("nginx.out").toFile())
			.start();
		NginxProxy proxy = new NginxProxy(directory, process, port);
		proxy.awaitListening(Duration.ofSeconds(10));
		return proxy;
	}

	int port() {
		return this.port;
	}

	String url() {
		return "http://127.0.0.1:" + this.port;
	}

	/** The access log, one line per request, naming the upstream that answered. */
	Path accessLog() {
		return this.directory.resolve("access.log");
	}

	@Override
	public void close() {
		this.process.destroy();
		try {
			if (!this.process.waitFor(5, TimeUnit.SECONDS)) {
				this.process.destroyForcibly().waitFor();
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private void awaitListening(Duration timeout) throws IOException {
		Instant deadline = Instant.now().plus(timeout);
		while (Instant.now().isBefore(deadline)) {
			if (!this.process.isAlive()) {
				throw new IOException("nginx exited with " + this.process.exitValue() + ": " + log());
			}
			try (Socket socket = new Socket()) {
				socket.connect(new InetSocketAddress("127.0.0.1", this.port), 200);
				return;
			}
			catch (IOException ex) {
				// not yet
			}
			try {
				Thread.sleep(50);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IOException("interrupted", ex);
			}
		}
		close();
		throw new IOException("nginx did not listen on port " + this.port + ": " + log());
	}

	private String log() throws IOException {
		Path out = this.directory.resolve("nginx.out");
		Path error = this.directory.resolve("error.log");
		return (Files.exists(out) ? Files.readString(out) : "") + (Files.exists(error) ? Files.readString(error) : "");
	}

	private static String configuration(Path directory, int port, List<Integer> upstreamPorts) {
		String servers = upstreamPorts.stream()
			.map((upstream) -> "\t\tserver 127.0.0.1:" + upstream + " max_fails=1 fail_timeout=10s;")
			.collect(Collectors.joining("\n"));
		String user = "root".equals(System.getProperty("user.name")) ? "user root;\n" : "";
		return user + """
				worker_processes 1;
				pid %1$s/nginx.pid;
				error_log %1$s/error.log warn;
				events {
					worker_connections 256;
				}
				http {
					log_format upstream '$request $status upstream=$upstream_addr ($upstream_status)';
					access_log %1$s/access.log upstream;
					client_body_temp_path %1$s/client_body;
					proxy_temp_path %1$s/proxy;
					fastcgi_temp_path %1$s/fastcgi;
					uwsgi_temp_path %1$s/uwsgi;
					scgi_temp_path %1$s/scgi;
					upstream app {
				%2$s
					}
					server {
						listen 127.0.0.1:%3$d;
						location / {
							proxy_pass http://app;
							proxy_set_header Host $http_host;
							proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
							proxy_next_upstream error timeout http_502;
							proxy_connect_timeout 1s;
							proxy_read_timeout 30s;
						}
					}
				}
				""".formatted(directory, servers, port);
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
	}

}
