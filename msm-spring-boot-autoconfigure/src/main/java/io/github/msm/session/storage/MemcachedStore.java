package io.github.msm.session.storage;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeAvailability;
import net.spy.memcached.CASResponse;
import net.spy.memcached.CASValue;
import net.spy.memcached.ConnectionFactory;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.ConnectionObserver;
import net.spy.memcached.FailureMode;
import net.spy.memcached.MemcachedClient;
import net.spy.memcached.OperationFactory;
import net.spy.memcached.internal.OperationFuture;
import net.spy.memcached.ops.StatusCode;
import net.spy.memcached.protocol.ascii.AsciiOperationFactory;
import net.spy.memcached.protocol.binary.BinaryOperationFactory;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * Byte-level access to memcached where every call names the node it goes to.
 *
 * <p>
 * Each node gets its own spymemcached client, so the store, not a hashing locator,
 * decides where a key lives, and a dead or hung node only stalls the calls meant for
 * it. Each client has one node, so its failure mode is {@code Retry}: a call waits (up
 * to the operation timeout) for the node to connect instead of being cancelled or moved
 * to another node. Failures never throw: reads answer "missing", writes answer {@code false}, and
 * the caller decides what that means for the session. Asynchronous writes are queued on
 * the node's connection and not waited for; memcached answers a connection's commands in
 * order, so a later read on the same node sees them.
 *
 * <p>
 * The store owns the {@linkplain #availability() availability} of its nodes: a
 * {@link NodeProbe} thread asks down nodes every second, and up nodes every few seconds,
 * whether they are there and whether they restarted.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class MemcachedStore implements AutoCloseable {

	static {
		if (System.getProperty("net.spy.log.LoggerImpl") == null) {
			System.setProperty("net.spy.log.LoggerImpl", "net.spy.memcached.compat.log.SLF4JLogger");
		}
	}

	/**
	 * Consecutive timeouts after which spymemcached drops and reopens a connection: 3
	 * means after 2 (spymemcached subtracts 2 and compares with "more than").
	 */
	static final int TIMEOUT_EXCEPTION_THRESHOLD = 3;

	/** The longest spymemcached waits between two attempts to reconnect, in seconds. */
	static final int MAX_RECONNECT_DELAY_SECONDS = 1;

	private static final Log logger = LogFactory.getLog(MemcachedStore.class);

	/** The longest a probe waits for a node to answer. */
	private static final Duration MAX_PROBE_TIMEOUT = Duration.ofSeconds(1);

	private static final long WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

	private final Map<MemcachedNode, NodeConnection> connections;

	private final NodeAvailability availability;

	private final NodeProbe probe;

	private final Map<MemcachedNode, Long> lastWarnings = new ConcurrentHashMap<>();

	private final long timeoutMillis;

	private volatile boolean closed;

	/**
	 * Connects to every node, waiting at most the operation timeout for the connections.
	 * A node whose host does not resolve, or that does not accept a connection in that
	 * time, starts down; the probe brings it up when it answers. Nodes never make this
	 * constructor fail.
	 * @param nodes the nodes
	 * @param binaryProtocol whether to speak the binary protocol (recommended: a too-large
	 * item does not drop the connection)
	 * @param operationTimeout how long a call waits for a node
	 */
	public MemcachedStore(List<MemcachedNode> nodes, boolean binaryProtocol, Duration operationTimeout) {
		this.timeoutMillis = operationTimeout.toMillis();
		this.availability = new NodeAvailability(nodes, Clock.systemUTC());
		Map<MemcachedNode, NodeConnection> connections = new LinkedHashMap<>();
		OperationFactory operations = binaryProtocol ? new BinaryOperationFactory() : new AsciiOperationFactory();
		Duration probeTimeout = (operationTimeout.compareTo(MAX_PROBE_TIMEOUT) < 0) ? operationTimeout
				: MAX_PROBE_TIMEOUT;
		this.probe = new NodeProbe(connections, this.availability, operations, probeTimeout);
		for (MemcachedNode node : nodes) {
			connections.put(node, new NodeConnection(node,
					(observer) -> connectionFactory(binaryProtocol, observer), this.probe::wakeUp));
		}
		this.connections = Collections.unmodifiableMap(connections);
		connect();
		this.probe.start();
	}

	private ConnectionFactory connectionFactory(boolean binaryProtocol, ConnectionObserver observer) {
		return new ConnectionFactoryBuilder()
			.setProtocol(binaryProtocol ? ConnectionFactoryBuilder.Protocol.BINARY : ConnectionFactoryBuilder.Protocol.TEXT)
			.setOpTimeout(this.timeoutMillis)
			.setDaemon(true)
			.setFailureMode(FailureMode.Retry)
			.setTimeoutExceptionThreshold(TIMEOUT_EXCEPTION_THRESHOLD)
			.setMaxReconnectDelay(MAX_RECONNECT_DELAY_SECONDS)
			.setInitialObservers(List.of(observer))
			.build();
	}

	/** Creates the clients, then waits for their connections, all against one deadline. */
	private void connect() {
		long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(this.timeoutMillis);
		List<MemcachedNode> connecting = new ArrayList<>();
		this.connections.forEach((node, connection) -> {
			if (connection.open()) {
				connecting.add(node);
			}
			else {
				this.availability.failed(node, "host " + node.host() + " does not resolve");
			}
		});
		for (MemcachedNode node : connecting) {
			if (!this.connections.get(node).awaitFirstConnect(deadline)) {
				this.availability.failed(node, "no connection within " + this.timeoutMillis + " ms");
			}
		}
	}

	/**
	 * Which nodes are up. Operations on a down node fail at once; the store's probe marks
	 * nodes up again and counts their restarts.
	 * @return the store's node availability
	 */
	public NodeAvailability availability() {
		return this.availability;
	}

	/** How long one operation may take before it counts as failed. */
	public Duration operationTimeout() {
		return Duration.ofMillis(this.timeoutMillis);
	}

	/**
	 * Reads several keys from one node in one round trip (the requests are pipelined).
	 * @param node the node
	 * @param keys the keys
	 * @return the values found, by key; a node failure reads as all missing
	 * @see #readAll(MemcachedNode, List)
	 */
	public Map<String, StoredValue> getAll(MemcachedNode node, List<String> keys) {
		Map<String, StoredValue> found = readAll(node, keys);
		return (found != null) ? found : Map.of();
	}

	/**
	 * Reads several keys from one node in one round trip, telling a failed read from
	 * missing keys. All requests of the call share one deadline: the call waits at most
	 * the operation timeout, however many keys it reads.
	 * @param node the node
	 * @param keys the keys
	 * @return the values found, by key (keys that are absent are left out), or
	 * {@code null} when the node failed or did not answer in time
	 */
	public @Nullable Map<String, StoredValue> readAll(MemcachedNode node, List<String> keys) {
		if (keys.isEmpty()) {
			return Map.of();
		}
		long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(this.timeoutMillis);
		List<Future<CASValue<byte[]>>> futures = new ArrayList<>(keys.size());
		try {
			MemcachedClient client = client(node);
			for (String key : keys) {
				futures.add(client.asyncGets(key, RawBytesTranscoder.INSTANCE));
			}
			Map<String, StoredValue> found = new LinkedHashMap<>();
			for (int i = 0; i < keys.size(); i++) {
				CASValue<byte[]> value = await(futures.get(i), deadline);
				if (value != null && value.getValue() != null) {
					found.put(keys.get(i), new StoredValue(value.getValue(), value.getCas()));
				}
			}
			return found;
		}
		catch (RuntimeException | TimeoutException | ExecutionException ex) {
			futures.stream().filter((future) -> !future.isDone()).forEach((future) -> future.cancel(false));
			warn("get", node, keys.get(0), ex);
			return null;
		}
	}

	/**
	 * Reads one key.
	 * @param node the node
	 * @param key the key
	 * @return the value, or {@code null} when missing or the node failed
	 */
	public @Nullable StoredValue get(MemcachedNode node, String key) {
		return getAll(node, List.of(key)).get(key);
	}

	/**
	 * Stores a value and waits for the answer.
	 * @param node the node
	 * @param key the key
	 * @param expiration memcached expiration (see {@code MemcachedExpiration})
	 * @param bytes the value
	 * @return whether the node stored it
	 */
	public boolean set(MemcachedNode node, String key, int expiration, byte[] bytes) {
		return awaitBoolean("set", node, key, () -> client(node).set(key, expiration, bytes, RawBytesTranscoder.INSTANCE));
	}

	/** Queues a {@code set} without waiting; failures are logged. */
	public void setAsync(MemcachedNode node, String key, int expiration, byte[] bytes) {
		fireAndForget("set", node, key, () -> client(node).set(key, expiration, bytes, RawBytesTranscoder.INSTANCE));
	}

	/**
	 * Writes only if nobody wrote since the value with this CAS token was read.
	 * @param node the node
	 * @param key the key
	 * @param cas the token from {@link #getAll}
	 * @param expiration memcached expiration
	 * @param bytes the value
	 * @return the outcome, with the new CAS token on success
	 */
	public WriteOutcome cas(MemcachedNode node, String key, long cas, int expiration, byte[] bytes) {
		OperationFuture<CASResponse> future = null;
		try {
			future = client(node).asyncCAS(key, cas, expiration, bytes, RawBytesTranscoder.INSTANCE);
			CASResponse response = await(future);
			if (response == null) {
				return WriteOutcome.FAILED;
			}
			return switch (response) {
				case OK -> new WriteOutcome(WriteResult.OK, casOf(future));
				case EXISTS -> new WriteOutcome(WriteResult.CONFLICT, 0);
				case NOT_FOUND -> new WriteOutcome(WriteResult.NOT_FOUND, 0);
				default -> WriteOutcome.FAILED;
			};
		}
		catch (RuntimeException | TimeoutException | ExecutionException ex) {
			if (future != null) {
				future.cancel(false);
			}
			warn("cas", node, key, ex);
			return WriteOutcome.FAILED;
		}
	}

	/** Queues a compare-and-set without waiting; a conflict or failure is only logged at DEBUG. */
	public void casAsync(MemcachedNode node, String key, long cas, int expiration, byte[] bytes) {
		try {
			OperationFuture<CASResponse> future = client(node).asyncCAS(key, cas, expiration, bytes,
					RawBytesTranscoder.INSTANCE);
			future.addListener((done) -> {
				if (!done.getStatus().isSuccess() && logger.isDebugEnabled()) {
					logger.debug("cas " + key + " on " + node + ": " + done.getStatus().getMessage());
				}
			});
		}
		catch (RuntimeException ex) {
			warn("cas", node, key, ex);
		}
	}

	/**
	 * Stores a value only if the key is absent, and waits for the answer.
	 * @param node the node
	 * @param key the key
	 * @param expiration memcached expiration
	 * @param bytes the value
	 * @return {@code OK} with the new CAS token, {@code CONFLICT} if the key exists, else
	 * {@code FAILED}
	 */
	public WriteOutcome add(MemcachedNode node, String key, int expiration, byte[] bytes) {
		OperationFuture<Boolean> future = null;
		try {
			future = client(node).add(key, expiration, bytes, RawBytesTranscoder.INSTANCE);
			if (Boolean.TRUE.equals(await(future))) {
				return new WriteOutcome(WriteResult.OK, casOf(future));
			}
			return future.getStatus().getStatusCode() == StatusCode.ERR_EXISTS
					|| future.getStatus().getStatusCode() == StatusCode.ERR_NOT_STORED
							? new WriteOutcome(WriteResult.CONFLICT, 0) : WriteOutcome.FAILED;
		}
		catch (RuntimeException | TimeoutException | ExecutionException ex) {
			if (future != null) {
				future.cancel(false);
			}
			warn("add", node, key, ex);
			return WriteOutcome.FAILED;
		}
	}

	/**
	 * Stores a value and waits for the answer, with the CAS token of the stored value.
	 * @param node the node
	 * @param key the key
	 * @param expiration memcached expiration
	 * @param bytes the value
	 * @return {@code OK} with the new CAS token, else {@code FAILED}
	 */
	public WriteOutcome setAndGetCas(MemcachedNode node, String key, int expiration, byte[] bytes) {
		OperationFuture<Boolean> future = null;
		try {
			future = client(node).set(key, expiration, bytes, RawBytesTranscoder.INSTANCE);
			return Boolean.TRUE.equals(await(future)) ? new WriteOutcome(WriteResult.OK, casOf(future))
					: WriteOutcome.FAILED;
		}
		catch (RuntimeException | TimeoutException | ExecutionException ex) {
			if (future != null) {
				future.cancel(false);
			}
			warn("set", node, key, ex);
			return WriteOutcome.FAILED;
		}
	}

	/** The CAS token a completed write reported; 0 when the protocol does not report it. */
	private static long casOf(OperationFuture<?> future) {
		try {
			Long cas = future.getCas();
			return (cas != null) ? cas : 0;
		}
		catch (RuntimeException ex) {
			return 0;
		}
	}

	/** Queues a {@code touch} (new expiration, same value) without waiting. */
	public void touchAsync(MemcachedNode node, String key, int expiration) {
		fireAndForget("touch", node, key, () -> client(node).touch(key, expiration));
	}

	/**
	 * Deletes a key and waits for the answer.
	 * @param node the node
	 * @param key the key
	 * @return {@code OK} if it was deleted, {@code NOT_FOUND} if it was not there, else
	 * {@code FAILED}
	 */
	public WriteResult delete(MemcachedNode node, String key) {
		Future<Boolean> future = null;
		try {
			future = client(node).delete(key);
			return Boolean.TRUE.equals(await(future)) ? WriteResult.OK : WriteResult.NOT_FOUND;
		}
		catch (RuntimeException | TimeoutException | ExecutionException ex) {
			if (future != null) {
				future.cancel(false);
			}
			warn("delete", node, key, ex);
			return WriteResult.FAILED;
		}
	}

	/** Queues a {@code delete} without waiting. */
	public void deleteAsync(MemcachedNode node, String key) {
		fireAndForget("delete", node, key, () -> client(node).delete(key));
	}

	private boolean awaitBoolean(String operation, MemcachedNode node, String key,
			java.util.function.Supplier<Future<Boolean>> call) {
		Future<Boolean> future = null;
		try {
			future = call.get();
			return Boolean.TRUE.equals(await(future));
		}
		catch (RuntimeException | TimeoutException | ExecutionException ex) {
			if (future != null) {
				future.cancel(false);
			}
			warn(operation, node, key, ex);
			return false;
		}
	}

	private void fireAndForget(String operation, MemcachedNode node, String key,
			java.util.function.Supplier<? extends Future<Boolean>> call) {
		try {
			Future<Boolean> future = call.get();
			if (future instanceof OperationFuture<Boolean> operationFuture) {
				operationFuture.addListener((done) -> {
					if (!done.getStatus().isSuccess() && logger.isDebugEnabled()) {
						logger.debug(operation + " " + key + " on " + node + ": " + done.getStatus().getMessage());
					}
				});
			}
		}
		catch (RuntimeException ex) {
			warn(operation, node, key, ex);
		}
	}

	private <T> @Nullable T await(Future<T> future) throws TimeoutException, ExecutionException {
		return await(future, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(this.timeoutMillis));
	}

	/** Waits for the answer until the deadline (a {@link System#nanoTime()} value). */
	private static <T> @Nullable T await(Future<T> future, long deadline) throws TimeoutException, ExecutionException {
		try {
			return future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new ExecutionException(ex);
		}
	}

	private MemcachedClient client(MemcachedNode node) {
		NodeConnection connection = this.connections.get(node);
		if (connection == null) {
			throw new IllegalArgumentException("unknown node " + node);
		}
		MemcachedClient client = connection.client();
		if (client == null) {
			throw new IllegalStateException("no client for node " + node + ": its host does not resolve");
		}
		return client;
	}

	/**
	 * Logs a failure at WARN at most once per node and interval, so a dead node shows in
	 * the log without flooding it with one line per request.
	 */
	private void warn(String operation, MemcachedNode node, String key, Exception ex) {
		String message = "memcached " + operation + " of '" + key + "' on node " + node + " failed: " + ex;
		long now = System.nanoTime();
		Long last = this.lastWarnings.get(node);
		boolean due = (last == null) ? this.lastWarnings.putIfAbsent(node, now) == null
				: (now - last >= WARN_INTERVAL_NANOS && this.lastWarnings.replace(node, last, now));
		if (due) {
			logger.warn(message + " (more failures of this node in the next "
					+ TimeUnit.NANOSECONDS.toSeconds(WARN_INTERVAL_NANOS) + " s are logged at DEBUG)");
		}
		else if (logger.isDebugEnabled()) {
			logger.debug(message);
		}
	}

	/**
	 * Stops the probe and the clients. Writes still queued for an up node get up to a
	 * second to go out; those for a down node are dropped.
	 */
	@Override
	public void close() {
		if (this.closed) {
			return;
		}
		this.closed = true;
		this.probe.stop();
		this.connections.forEach((node, connection) -> connection.close(this.availability.isAvailable(node) ? 1000 : 0));
	}

}
