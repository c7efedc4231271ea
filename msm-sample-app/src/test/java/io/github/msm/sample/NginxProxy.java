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
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.stream.Collectors;

/**
 * nginx as a child process, balancing round-robin over local app ports, or routing by the
 * route at the end of the {@code SESSION} cookie (sticky mode), with its configuration, pid
 * and logs in a directory of its own.
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
		return start(directory, (port) -> configuration(directory, port, roundRobin(upstreamPorts), "app"));
	}

	/**
	 * Starts nginx routing by the session id's route, as README's "Sticky mode" section
	 * configures it: a cookie ending in {@code .<route>} goes to that route's app, or to
	 * the next one when that one refuses connections; no cookie or an unknown route goes
	 * round-robin.
	 * @param directory an empty directory for configuration, pid and logs
	 * @param portsByRoute each app's port by its {@code msm.jvm-route}, in order
	 * @return the running proxy
	 * @throws IOException if nginx could not be started
	 */
	static NginxProxy startSticky(Path directory, Map<String, Integer> portsByRoute) throws IOException {
		return start(directory, (port) -> configuration(directory, port, byRoute(portsByRoute), "$route"));
	}

	private static NginxProxy start(Path directory, IntFunction<String> configuration) throws IOException {
		if (!Files.isExecutable(NGINX)) {
			throw new IllegalStateException(NGINX + " is missing: install it with 'apt-get install -y nginx' "
					+ "(bash .ci/run does so on CI)");
		}
		int port = freePort();
		Path config = directory.resolve("nginx.conf");
		Files.writeString(config, configuration.apply(port));
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

	private static String roundRobin(Collection<Integer> upstreamPorts) {
		String servers = upstreamPorts.stream()
			.map((upstream) -> "\t\tserver 127.0.0.1:" + upstream + " max_fails=1 fail_timeout=10s;\n")
			.collect(Collectors.joining());
		return "\tupstream app {\n" + servers + "\t}\n";
	}

	/**
	 * One upstream per route, the other apps its backups, and a map from the cookie's
	 * route to the upstream (the default: round-robin over all).
	 */
	private static String byRoute(Map<String, Integer> portsByRoute) {
		StringBuilder out = new StringBuilder("\tmap $cookie_SESSION $route {\n\t\tdefault app;\n");
		portsByRoute.keySet().forEach((route) -> out.append("\t\t~\\.").append(route).append("$ ").append(route)
			.append(";\n"));
		out.append("\t}\n");
		portsByRoute.forEach((route, port) -> {
			out.append("\tupstream ").append(route).append(" {\n");
			out.append("\t\tserver 127.0.0.1:").append(port).append(" max_fails=1 fail_timeout=10s;\n");
			portsByRoute.forEach((other, otherPort) -> {
				if (!other.equals(route)) {
					out.append("\t\tserver 127.0.0.1:").append(otherPort).append(" backup;\n");
				}
			});
			out.append("\t}\n");
		});
		return out.append(roundRobin(portsByRoute.values())).toString();
	}

	private static String configuration(Path directory, int port, String upstreams, String target) {
		String user = "root".equals(System.getProperty("user.name")) ? "user root;\n" : "";
		return user + """
				worker_processes 1;
				pid %1$s/nginx.pid;
				error_log %1$s/error.log warn;
				events {
					worker_connections 256;
				}
				http {
					log_format upstream '$request $status upstream=$upstream_addr ($upstream_status) cookie=$cookie_SESSION';
					access_log %1$s/access.log upstream;
					client_body_temp_path %1$s/client_body;
					proxy_temp_path %1$s/proxy;
					fastcgi_temp_path %1$s/fastcgi;
					uwsgi_temp_path %1$s/uwsgi;
					scgi_temp_path %1$s/scgi;
				%2$s
					server {
						listen 127.0.0.1:%3$d;
						location / {
							proxy_pass http://%4$s;
							proxy_set_header Host $http_host;
							proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
							proxy_next_upstream error timeout http_502;
							proxy_connect_timeout 1s;
							proxy_read_timeout 30s;
						}
					}
				}
				""".formatted(directory, upstreams, port, target);
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
	}

}
