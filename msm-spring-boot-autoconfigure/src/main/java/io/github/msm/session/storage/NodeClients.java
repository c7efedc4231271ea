package io.github.msm.session.storage;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeAvailability;
import net.spy.memcached.ConnectionFactory;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.ConnectionObserver;
import net.spy.memcached.FailureMode;
import net.spy.memcached.MemcachedClient;
import net.spy.memcached.auth.AuthDescriptor;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * How the store's spymemcached clients are made and first connected: one client per
 * node, failure mode {@code Cancel}, the operation timeout as spymemcached's own, and a
 * small shared pool for the completion listeners of unawaited writes (see
 * {@link MemcachedStore} for why).
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class NodeClients {

	/**
	 * Consecutive timeouts after which spymemcached drops and reopens a connection: 3
	 * means after 2 (spymemcached subtracts 2 and compares with "more than").
	 */
	static final int TIMEOUT_EXCEPTION_THRESHOLD = 3;

	/** The longest spymemcached waits between two attempts to reconnect, in seconds. */
	static final int MAX_RECONNECT_DELAY_SECONDS = 1;

	private static final Log logger = LogFactory.getLog(MemcachedStore.class);

	private NodeClients() {
	}

	static ConnectionFactory connectionFactory(ConnectionSettings settings, ExecutorService workers,
			ConnectionObserver observer) {
		long timeoutMillis = settings.getOperationTimeout().toMillis();
		ConnectionFactoryBuilder builder = new ConnectionFactoryBuilder();
		AuthDescriptor authDescriptor = settings.authDescriptor();
		if (authDescriptor != null) {
			builder.setAuthDescriptor(authDescriptor);
		}
		return builder
			.setProtocol(settings.isBinaryProtocol() ? ConnectionFactoryBuilder.Protocol.BINARY
					: ConnectionFactoryBuilder.Protocol.TEXT)
			.setOpTimeout(timeoutMillis)
			.setOpQueueMaxBlockTime(timeoutMillis)
			.setDaemon(true)
			.setFailureMode(FailureMode.Cancel)
			.setTimeoutExceptionThreshold(TIMEOUT_EXCEPTION_THRESHOLD)
			.setMaxReconnectDelay(MAX_RECONNECT_DELAY_SECONDS)
			.setListenerExecutorService(workers)
			.setInitialObservers(List.of(observer))
			.build();
	}

	/**
	 * Where spymemcached runs the completion listeners of unawaited writes, off its IO
	 * thread; shared by the store's clients, none of which shuts it down.
	 */
	static ExecutorService workers() {
		AtomicInteger count = new AtomicInteger();
		ThreadPoolExecutor workers = new ThreadPoolExecutor(2, 2, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
				(task) -> {
					Thread thread = new Thread(task, "msm-memcached-listener-" + count.incrementAndGet());
					thread.setDaemon(true);
					return thread;
				}, new ThreadPoolExecutor.DiscardPolicy());
		workers.allowCoreThreadTimeOut(true);
		return workers;
	}

	/** Creates the clients, then waits for their connections, all against one deadline. */
	static void connect(Map<MemcachedNode, NodeConnection> connections, NodeAvailability availability,
			long timeoutMillis) {
		long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
		List<MemcachedNode> connecting = new ArrayList<>();
		connections.forEach((node, connection) -> {
			if (connection.open()) {
				connecting.add(node);
			}
			else {
				availability.failed(node, "host " + node.host() + " does not resolve");
			}
		});
		for (MemcachedNode node : connecting) {
			if (!connections.get(node).awaitFirstConnect(deadline)) {
				availability.failed(node, "no connection within " + timeoutMillis + " ms");
			}
		}
	}

	/**
	 * The smallest {@code item_size_max} the nodes that are up report in
	 * {@code stats settings}; none through a proxy (twemproxy closes the connection on any
	 * stats command).
	 */
	static OptionalInt itemSizeMax(Iterable<MemcachedNode> nodes, NodeCalls calls, boolean proxy) {
		OptionalInt smallest = OptionalInt.empty();
		if (proxy) {
			return smallest;
		}
		for (MemcachedNode node : nodes) {
			MemcachedClient client = calls.clientIfUp(node);
			if (client == null) {
				continue;
			}
			try {
				for (Map<String, String> settings : client.getStats("settings").values()) {
					String value = settings.get("item_size_max");
					if (value != null) {
						int itemSizeMax = Integer.parseInt(value.trim());
						if (smallest.isEmpty() || itemSizeMax < smallest.getAsInt()) {
							smallest = OptionalInt.of(itemSizeMax);
						}
					}
				}
			}
			catch (RuntimeException ex) {
				logger.debug("No item_size_max from node " + node + ": " + ex);
			}
		}
		return smallest;
	}

}
