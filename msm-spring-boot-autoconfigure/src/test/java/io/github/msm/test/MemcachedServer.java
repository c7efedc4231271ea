package io.github.msm.test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One real memcached process on a free loopback port, started and stopped by tests.
 *
 * <p>
 * Tests talk to it over the text protocol for their own checks ({@link #stats()},
 * {@link #get(String)}), so that what they assert is what the server holds, not what
 * our client believes. {@link #hang()} freezes the process with SIGSTOP to imitate a
 * node that accepts connections but never answers.
 */
public final class MemcachedServer {

	private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

	private final String nodeId;

	private final int memoryMb;

	private final String maxItemSize;

	private int port;

	private Process process;

	private boolean hung;

	MemcachedServer(String nodeId, int memoryMb, String maxItemSize) {
		this.nodeId = nodeId;
		this.memoryMb = memoryMb;
		this.maxItemSize = maxItemSize;
	}

	public String nodeId() {
		return this.nodeId;
	}

	public int port() {
		return this.port;
	}

	public String address() {
		return "127.0.0.1:" + this.port;
	}

	/** {@code id:host:port}, as {@code msm.nodes} takes it. */
	public String nodeSpec() {
		return this.nodeId + ":" + address();
	}

	public boolean isRunning() {
		return this.process != null && this.process.isAlive();
	}

	/** Starts on a new free port. */
	public void start() {
		IOException last = null;
		for (int attempt = 0; attempt < 5; attempt++) {
			try {
				startOn(freePort());
				return;
			}
			catch (IOException ex) {
				last = ex;
			}
		}
		throw new IllegalStateException("memcached did not start", last);
	}

	/** Starts again, empty, on the port it had, as a node that came back after a crash. */
	public void restart() {
		kill();
		try {
			startOn(this.port);
		}
		catch (IOException ex) {
			throw new IllegalStateException("memcached did not restart on port " + this.port, ex);
		}
	}

	private void startOn(int port) throws IOException {
		List<String> command = new ArrayList<>(List.of(memcachedBinary(), "-p", String.valueOf(port), "-U", "0", "-l",
				"127.0.0.1", "-m", String.valueOf(this.memoryMb), "-I", this.maxItemSize, "-t", "2", "-c", "1024"));
		if ("root".equals(System.getProperty("user.name"))) {
			command.addAll(List.of("-u", "root"));
		}
		Process started = new ProcessBuilder(command).redirectErrorStream(true)
			.redirectOutput(ProcessBuilder.Redirect.DISCARD)
			.start();
		Instant deadline = Instant.now().plus(START_TIMEOUT);
		while (Instant.now().isBefore(deadline)) {
			if (!started.isAlive()) {
				throw new IOException("memcached exited with " + started.exitValue() + " on port " + port);
			}
			if (answersVersion(port)) {
				this.port = port;
				this.process = started;
				return;
			}
			try {
				Thread.sleep(20);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				started.destroyForcibly();
				throw new IOException("interrupted", ex);
			}
		}
		started.destroyForcibly();
		throw new IOException("memcached did not answer on port " + port);
	}

	/** Kills the process (SIGKILL) and waits until it is gone. */
	public void kill() {
		if (this.process != null) {
			resume();
			this.process.destroyForcibly();
			try {
				this.process.waitFor();
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	/** Freezes the process: the port stays open but nothing is answered. */
	public void hang() {
		signal("STOP");
		awaitThreadsStopped(true);
		this.hung = true;
	}

	/**
	 * Undoes {@link #hang()}. The node then runs the commands that piled up while it was
	 * frozen.
	 */
	public void resume() {
		signal("CONT");
		awaitThreadsStopped(false);
		this.hung = false;
	}

	/**
	 * Waits (up to 2 s) until every thread of the process is stopped, or none is: a
	 * signal reaches a busy process's threads a moment after {@code kill} returns, and a
	 * thread still running would answer a request a test expects to hang.
	 */
	private void awaitThreadsStopped(boolean stopped) {
		if (this.process == null || !this.process.isAlive()) {
			return;
		}
		java.nio.file.Path tasks = java.nio.file.Path.of("/proc", String.valueOf(this.process.pid()), "task");
		long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(2);
		while (System.nanoTime() < deadline) {
			try (java.util.stream.Stream<java.nio.file.Path> threads = java.nio.file.Files.list(tasks)) {
				boolean all = threads.allMatch((thread) -> isStopped(thread) == stopped);
				if (all) {
					return;
				}
				Thread.sleep(5);
			}
			catch (IOException ex) {
				return; // no /proc: nothing to wait for
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return;
			}
		}
	}

	private static boolean isStopped(java.nio.file.Path thread) {
		try {
			String stat = java.nio.file.Files.readString(thread.resolve("stat"));
			// "pid (comm) S ...": the state follows the last ')'
			char state = stat.charAt(stat.lastIndexOf(')') + 2);
			return state == 'T' || state == 't';
		}
		catch (IOException | RuntimeException ex) {
			return true;
		}
	}

	/** Whether {@link #hang()} froze it and nothing resumed it since. */
	public boolean isHung() {
		return this.hung;
	}

	private void signal(String name) {
		if (this.process == null || !this.process.isAlive()) {
			return;
		}
		try {
			new ProcessBuilder("kill", "-" + name, String.valueOf(this.process.pid())).start().waitFor();
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	/** The server's {@code stats}, numeric values only. */
	public Map<String, Long> stats() {
		String answer = command("stats\r\n", "END\r\n");
		Map<String, Long> stats = new LinkedHashMap<>();
		for (String line : answer.split("\r\n")) {
			String[] parts = line.split(" ");
			if (parts.length == 3 && parts[0].equals("STAT")) {
				try {
					stats.put(parts[1], Long.parseLong(parts[2]));
				}
				catch (NumberFormatException ex) {
					// versions, rusage and the like
				}
			}
		}
		return stats;
	}

	/** One counter of {@link #stats()}, e.g. {@code cmd_get}, {@code cmd_set}, {@code cmd_touch}. */
	public long stat(String name) {
		return stats().getOrDefault(name, 0L);
	}

	/**
	 * Every key the server holds with memcached's metadata of it ({@code exp=… la=…
	 * cas=… fetch=yes|no …}), from {@code lru_crawler metadump all}. Keys come
	 * URL-encoded there and are decoded here. Counts no get and fetches nothing, so
	 * {@code fetch=no} still shows an item that nobody read.
	 */
	public Map<String, String> keys() {
		String answer = command("lru_crawler metadump all\r\n", "END\r\n");
		Map<String, String> keys = new LinkedHashMap<>();
		for (String line : answer.split("\r?\n")) {
			if (line.startsWith("key=")) {
				int end = (line.indexOf(' ') > 0) ? line.indexOf(' ') : line.length();
				keys.put(java.net.URLDecoder.decode(line.substring(4, end), StandardCharsets.UTF_8),
						line.substring(end).trim());
			}
		}
		return keys;
	}

	/** Resets the counters ({@code stats reset}). */
	public void resetStats() {
		command("stats reset\r\n", "RESET\r\n");
	}

	/** Removes every item. */
	public void flushAll() {
		command("flush_all\r\n", "OK\r\n");
	}

	/** The raw bytes stored under a key, or {@code null}. Counts as a get in {@link #stats()}. */
	public byte[] get(String key) {
		try (Socket socket = connect(this.port)) {
			OutputStream out = socket.getOutputStream();
			out.write(("get " + key + "\r\n").getBytes(StandardCharsets.US_ASCII));
			out.flush();
			InputStream in = socket.getInputStream();
			String header = readLine(in);
			if (header.equals("END")) {
				return null;
			}
			String[] parts = header.split(" ");
			int length = Integer.parseInt(parts[3]);
			byte[] value = in.readNBytes(length);
			readLine(in);
			readLine(in);
			return value;
		}
		catch (IOException ex) {
			throw new IllegalStateException("get " + key + " failed on " + address(), ex);
		}
	}

	/**
	 * Seconds until the item expires, from memcached's {@code me} debug command: -1 for
	 * never, {@code null} when the item is missing. (memcached 1.6 prints the remaining
	 * time negated.)
	 */
	public Long expiresInSeconds(String key) {
		String answer = command("me " + key + "\r\n", "\r\n");
		if (!answer.startsWith("ME ")) {
			return null;
		}
		for (String field : answer.trim().split(" ")) {
			if (field.startsWith("exp=")) {
				long exp = Long.parseLong(field.substring(4));
				return (exp == -1) ? -1 : -exp;
			}
		}
		throw new IllegalStateException("no exp in " + answer);
	}

	/** Stores raw bytes under a key, bypassing the store under test (to plant corrupt data). */
	public void set(String key, byte[] value, int ttlSeconds) {
		try (Socket socket = connect(this.port)) {
			OutputStream out = socket.getOutputStream();
			out.write(("set " + key + " 0 " + ttlSeconds + " " + value.length + "\r\n")
				.getBytes(StandardCharsets.US_ASCII));
			out.write(value);
			out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
			out.flush();
			String answer = readLine(socket.getInputStream());
			if (!answer.equals("STORED")) {
				throw new IllegalStateException("set " + key + " answered " + answer);
			}
		}
		catch (IOException ex) {
			throw new IllegalStateException("set " + key + " failed on " + address(), ex);
		}
	}

	private String command(String command, String terminator) {
		try (Socket socket = connect(this.port)) {
			socket.getOutputStream().write(command.getBytes(StandardCharsets.US_ASCII));
			socket.getOutputStream().flush();
			InputStream in = socket.getInputStream();
			ByteArrayOutputStream answer = new ByteArrayOutputStream();
			byte[] buffer = new byte[8192];
			while (!answer.toString(StandardCharsets.US_ASCII).endsWith(terminator)) {
				int read = in.read(buffer);
				if (read < 0) {
					break;
				}
				answer.write(buffer, 0, read);
			}
			return answer.toString(StandardCharsets.US_ASCII);
		}
		catch (IOException ex) {
			throw new IllegalStateException(command.trim() + " failed on " + address(), ex);
		}
	}

	private static String readLine(InputStream in) throws IOException {
		StringBuilder line = new StringBuilder();
		int c;
		while ((c = in.read()) >= 0) {
			if (c == '\n') {
				break;
			}
			if (c != '\r') {
				line.append((char) c);
			}
		}
		return line.toString();
	}

	private static boolean answersVersion(int port) {
		try (Socket socket = connect(port)) {
			socket.getOutputStream().write("version\r\n".getBytes(StandardCharsets.US_ASCII));
			return readLine(socket.getInputStream()).startsWith("VERSION");
		}
		catch (IOException ex) {
			return false;
		}
	}

	private static Socket connect(int port) throws IOException {
		Socket socket = new Socket();
		socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
		socket.setSoTimeout(2000);
		return socket;
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
			socket.setReuseAddress(true);
			return socket.getLocalPort();
		}
	}

	private static String memcachedBinary() {
		for (String candidate : List.of("/usr/bin/memcached", "/usr/local/bin/memcached")) {
			if (Files.isExecutable(Path.of(candidate))) {
				return candidate;
			}
		}
		String path = System.getenv("PATH");
		if (path != null) {
			for (String dir : path.split(":")) {
				if (Files.isExecutable(Path.of(dir, "memcached"))) {
					return Path.of(dir, "memcached").toString();
				}
			}
		}
		throw new IllegalStateException("memcached is not installed: run 'apt-get install -y memcached' (or bash .ci/run)");
	}

}
