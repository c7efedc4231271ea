package io.github.msm.test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit extension that runs real memcached processes, {@code n1}, {@code n2}, … on free
 * loopback ports for the test class.
 *
 * <pre class="code">
 * &#64;RegisterExtension
 * static final MemcachedServers memcached = MemcachedServers.nodes(2);
 * </pre>
 *
 * Servers start before all tests and stop after them. After each test, servers that a
 * test killed or froze are started anew (empty, on the same port: a frozen one would
 * otherwise run the writes queued while it was frozen after the next test began), and
 * all data and counters are cleared, so that tests stay independent.
 */
public final class MemcachedServers implements BeforeAllCallback, AfterAllCallback, AfterEachCallback {

	private final List<MemcachedServer> servers = new ArrayList<>();

	private MemcachedServers(int count, int memoryMb, String maxItemSize) {
		for (int i = 1; i <= count; i++) {
			this.servers.add(new MemcachedServer("n" + i, memoryMb, maxItemSize));
		}
	}

	/** {@code count} servers with 64 MB each and memcached's default 1 MB item limit. */
	public static MemcachedServers nodes(int count) {
		return new MemcachedServers(count, 64, "1m");
	}

	/**
	 * {@code count} servers with 64 MB each and the given item limit, as memcached's
	 * {@code -I} takes it.
	 * @param count the number of servers
	 * @param maxItemSize for example {@code 512k}; memcached refuses less than {@code 512k}
	 * unless its slab chunk size is lowered too
	 * @return the extension
	 */
	public static MemcachedServers nodesWithMaxItemSize(int count, String maxItemSize) {
		return new MemcachedServers(count, 64, maxItemSize);
	}

	public MemcachedServer node(int index) {
		return this.servers.get(index);
	}

	public MemcachedServer node(String nodeId) {
		return this.servers.stream()
			.filter((server) -> server.nodeId().equals(nodeId))
			.findFirst()
			.orElseThrow(() -> new IllegalArgumentException("no node " + nodeId));
	}

	public List<MemcachedServer> all() {
		return List.copyOf(this.servers);
	}

	/** {@code n1:127.0.0.1:p1 n2:127.0.0.1:p2}, the value for {@code msm.nodes}. */
	public String nodesProperty() {
		return this.servers.stream().map(MemcachedServer::nodeSpec).collect(Collectors.joining(" "));
	}

	/** Sum of one {@code stats} counter over all servers. */
	public long stat(String name) {
		return this.servers.stream().filter(MemcachedServer::isRunning).mapToLong((s) -> s.stat(name)).sum();
	}

	/** One {@code stats} counter per node id. */
	public Map<String, Long> statPerNode(String name) {
		return this.servers.stream()
			.filter(MemcachedServer::isRunning)
			.collect(Collectors.toMap(MemcachedServer::nodeId, (s) -> s.stat(name)));
	}

	public void resetStats() {
		this.servers.stream().filter(MemcachedServer::isRunning).forEach(MemcachedServer::resetStats);
	}

	@Override
	public void beforeAll(ExtensionContext context) {
		this.servers.forEach(MemcachedServer::start);
	}

	@Override
	public void afterEach(ExtensionContext context) {
		for (MemcachedServer server : this.servers) {
			if (!server.isRunning() || server.isHung()) {
				server.restart();
			}
			server.flushAll();
			server.resetStats();
		}
	}

	@Override
	public void afterAll(ExtensionContext context) {
		this.servers.forEach(MemcachedServer::kill);
	}

}
