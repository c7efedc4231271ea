package io.github.msm.benchmarks.jmh;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real memcached on a free loopback port, started and stopped by a benchmark (JMH has
 * no JUnit extension). Needs {@code memcached} on the path.
 *
 * @author msm-spring-boot
 */
final class MemcachedProcess implements AutoCloseable {

	private final Process process;

	private final int port;

	private MemcachedProcess(Process process, int port) {
		this.process = process;
		this.port = port;
	}

	/** Starts one, trying other ports when one was taken meanwhile. */
	static MemcachedProcess start() throws IOException, InterruptedException {
		for (int attempt = 0; attempt < 5; attempt++) {
			int port = freePort();
			List<String> command = new ArrayList<>(List.of("memcached", "-p", String.valueOf(port), "-l", "127.0.0.1",
					"-U", "0", "-m", "256"));
			if ("root".equals(System.getProperty("user.name"))) {
				command.addAll(List.of("-u", "root"));
			}
			Process process = new ProcessBuilder(command).redirectErrorStream(true)
				.redirectOutput(ProcessBuilder.Redirect.appendTo(new File(System.getProperty("java.io.tmpdir"),
						"msm-bench-memcached.log")))
				.start();
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
			while (System.nanoTime() < deadline && process.isAlive()) {
				if (answers(port)) {
					return new MemcachedProcess(process, port);
				}
				Thread.sleep(50);
			}
			process.destroyForcibly().waitFor();
		}
		throw new IllegalStateException("memcached did not start (is it installed?)");
	}

	int port() {
		return this.port;
	}

	@Override
	public void close() throws InterruptedException {
		this.process.destroy();
		if (!this.process.waitFor(5, TimeUnit.SECONDS)) {
			this.process.destroyForcibly().waitFor();
		}
	}

	private static boolean answers(int port) {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
			socket.setSoTimeout(1000);
			OutputStream out = socket.getOutputStream();
			out.write("version\r\n".getBytes(StandardCharsets.US_ASCII));
			out.flush();
			InputStream in = socket.getInputStream();
			byte[] buffer = new byte[64];
			int read = in.read(buffer);
			return read > 0 && new String(buffer, 0, read, StandardCharsets.US_ASCII).startsWith("VERSION");
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

}
