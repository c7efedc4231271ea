package io.github.msm.session.storage;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import io.github.msm.session.log.SessionIdTag;
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
import net.spy.memcached.OperationTimeoutException;
import net.spy.memcached.auth.AuthDescriptor;
import net.spy.memcached.internal.OperationFuture;
import net.spy.memcached.ops.OperationException;
import net.spy.memcached.ops.OperationStatus;
import net.spy.memcached.ops.StatusCode;
import net.spy.memcached.protocol.ascii.AsciiOperationFactory;
import net.spy.memcached.protocol.binary.BinaryOperationFactory;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * Byte-level access to memcached where every call names the node it goes to.
 *
 * <p>
 * Each node gets its own spymemcached client, so the store, not a hashing locator,
 * decides where a key lives, and a dead or hung node only stalls the calls meant for it.
 * Failures never throw: reads answer "missing" ({@link #readAll} answers {@code null}),
 * writes answer {@code false} or {@code FAILED}, and the caller decides what that means
 * for the session. Asynchronous writes are queued on the node's connection and not waited
 * for; memcached answers a connection's commands in order, so a later read on the same
 * node sees them.
 *
 * <p>
 * <strong>Down nodes.</strong> The store owns the {@linkplain #availability()
 * availability} of its nodes. Every call first asks it whether its node is up; a call to
 * a down node fails at once without touching the network, and an asynchronous write to it
 * is not sent. Any failure or timeout of a call marks its node down, so a dead or hung
 * node costs one failed call, not one per request. A {@link NodeProbe} thread asks down
 * nodes every second, and up nodes every few seconds, whether they are there and whether
 * they restarted (came back empty), and marks them up. Nodes never make the constructor
 * fail: one whose host does not resolve or that refuses connections starts down.
 *
 * <p>
 * <strong>Failure mode {@code Cancel}.</strong> With one node per client, spymemcached's
 * failure mode only decides what happens to a call while the node's connection is down.
 * {@code Cancel} fails it at once: the store learns of a dead node from the first call
 * after the crash instead of after a full timeout, and nothing waits in a queue to be sent
 * when the connection comes back (with {@code Retry}, calls queued until the reconnect or
 * the timeout, and writes still queued then went to a node that came back empty).
 * {@code Redistribute} would move the call to another node, which only the store may
 * choose. A hung node keeps its connection, so its calls run into the timeout; after two
 * consecutive timeouts (the probe's included) spymemcached drops the connection and
 * reconnects, at most a second apart.
 *
 * <p>
 * <strong>Time.</strong> No call waits longer than the operation timeout (plus
 * scheduling): a call's deadline is taken before its requests are queued, the requests of
 * a pipelined read share it, and queueing itself may block at most that long.
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

	/** The longest a probe waits for a node to answer. */
	private static final Duration MAX_PROBE_TIMEOUT = Duration.ofSeconds(1);

	private static final long WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

	private static final Log logger = LogFactory.getLog(MemcachedStore.class);

	private final Map<MemcachedNode, NodeConnection> connections;

	private final NodeAvailability availability;

	private final NodeProbe probe;

	private final OperationFactory operations;

	private final ExecutorService workers = workers();

	private final Map<MemcachedNode, Long> lastWarnings = new ConcurrentHashMap<>();

	private final long timeoutMillis;

	private final boolean binaryProtocol;

	private final ConnectionSettings settings;

	private final OptionalInt serverItemSizeMax;

	private volatile boolean closed;

	private volatile OperationTimer timer = OperationTimer.NONE;

	/**
	 * Connects to every node, waiting at most the operation timeout for the connections,
	 * then asks each connected node once for its {@code stats} (waiting at most the probe
	 * timeout, {@code min(operationTimeout, 1 s)}). A node whose host does not resolve,
	 * that does not accept a connection or does not answer in that time starts down; the
	 * probe brings it up when it answers. Nodes never make this constructor fail.
	 * @param nodes the nodes
	 * @param binaryProtocol whether to speak the binary protocol (recommended: a too-large
	 * item does not drop the connection)
	 * @param operationTimeout how long a call waits for a node
	 */
	public MemcachedStore(List<MemcachedNode> nodes, boolean binaryProtocol, Duration operationTimeout) {
		this(nodes, ConnectionSettings.of(binaryProtocol, operationTimeout));
	}

	/**
	 * Connects to every node as the settings say (protocol, timeout, SASL credentials,
	 * proxies), as {@link #MemcachedStore(List, boolean, Duration)} describes. With
	 * credentials, the probe's {@code stats} go over the same authenticated connections
	 * as every other call; a node that refuses the credentials starts down and stays down,
	 * with the likely cause in its down reason.
	 * @param nodes the nodes
	 * @param settings how to talk to them
	 */
	public MemcachedStore(List<MemcachedNode> nodes, ConnectionSettings settings) {
		boolean binaryProtocol = settings.isBinaryProtocol();
		Duration operationTimeout = settings.getOperationTimeout();
		this.settings = settings;
		this.timeoutMillis = operationTimeout.toMillis();
		this.binaryProtocol = binaryProtocol;
		this.availability = new NodeAvailability(nodes, Clock.systemUTC());
		Map<MemcachedNode, NodeConnection> connections = new LinkedHashMap<>();
		OperationFactory operations = binaryProtocol ? new BinaryOperationFactory() : new AsciiOperationFactory();
		this.operations = operations;
		Duration probeTimeout = (operationTimeout.compareTo(MAX_PROBE_TIMEOUT) < 0) ? operationTimeout
				: MAX_PROBE_TIMEOUT;
		this.probe = new NodeProbe(connections, this.availability, operations, probeTimeout, settings);
		for (MemcachedNode node : nodes) {
			connections.put(node, new NodeConnection(node,
					(observer) -> connectionFactory(binaryProtocol, observer), this.probe::wakeUp));
		}
		this.connections = Collections.unmodifiableMap(connections);
		connect();
		this.probe.start();
		// after the first probe, which leaves hung nodes down: they would hold this up
		this.serverItemSizeMax = readItemSizeMax();
	}

	/**
	 * The largest item the nodes take: the smallest {@code item_size_max} (memcached's
	 * {@code -I}) that they reported in {@code stats settings} when the store was created.
	 * A node that did not answer then does not count.
	 * @return the smallest reported item size, or empty if no node reported one
	 */
	public OptionalInt serverItemSizeMax() {
		return this.serverItemSizeMax;
	}

	private OptionalInt readItemSizeMax() {
		OptionalInt smallest = OptionalInt.empty();
		if (this.settings.isProxy()) {
			return smallest; // twemproxy closes the connection on any stats command
		}
		for (MemcachedNode node : this.connections.keySet()) {
			MemcachedClient client = clientIfUp(node);
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

	private ConnectionFactory connectionFactory(boolean binaryProtocol, ConnectionObserver observer) {
		ConnectionFactoryBuilder builder = new ConnectionFactoryBuilder();
		AuthDescriptor authDescriptor = this.settings.authDescriptor();
		if (authDescriptor != null) {
			builder.setAuthDescriptor(authDescriptor);
		}
		return builder
			.setProtocol(binaryProtocol ? ConnectionFactoryBuilder.Protocol.BINARY : ConnectionFactoryBuilder.Protocol.TEXT)
			.setOpTimeout(this.timeoutMillis)
			.setOpQueueMaxBlockTime(this.timeoutMillis)
			.setDaemon(true)
			.setFailureMode(FailureMode.Cancel)
			.setTimeoutExceptionThreshold(TIMEOUT_EXCEPTION_THRESHOLD)
			.setMaxReconnectDelay(MAX_RECONNECT_DELAY_SECONDS)
			.setListenerExecutorService(this.workers)
			.setInitialObservers(List.of(observer))
			.build();
	}

	/**
	 * Where spymemcached runs the completion listeners of unawaited writes, off its IO
	 * thread; shared by the store's clients, none of which shuts it down.
	 */
	private static ExecutorService workers() {
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
	 * Which nodes are up. Calls to a down node fail at once; the store's probe marks nodes
	 * up again and counts their restarts.
	 * @return the store's node availability
	 */
	public NodeAvailability availability() {
		return this.availability;
	}

	/**
	 * Set what is told how long each operation took. Calls to a down node, which fail
	 * without touching the network, are not measured.
	 * @param timer the timer (default: none)
	 */
	public void setOperationTimer(OperationTimer timer) {
		this.timer = (timer != null) ? timer : OperationTimer.NONE;
	}

	/**
	 * Asks every node that is up for its {@code stats}, all at once, waiting at most the
	 * operation timeout in all, however many nodes are hung; nodes that are down are not
	 * asked. For health checks and operators, not for requests.
	 * @return one report per node, in ring order
	 */
	public List<NodeReport> report() {
		return new NodeReports(this.connections, this.availability, this.operations, this.settings.isProxy()).collect(
				TimeUnit.MILLISECONDS.toNanos(this.timeoutMillis));
	}

	/** How long one operation may take before it counts as failed. */
	public Duration operationTimeout() {
		return Duration.ofMillis(this.timeoutMillis);
	}

	/**
	 * Reads several keys from one node in one round trip (the requests are pipelined).
	 * @param node the node
	 * @param keys the keys
	 * @return the values found, by key; a down or failing node reads as all missing
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
	 * {@code null} when the node is down, failed or did not answer in time
	 */
	public @Nullable Map<String, StoredValue> readAll(MemcachedNode node, List<String> keys) {
		if (keys.isEmpty()) {
			return this.availability.isAvailable(node) ? Map.of() : null;
		}
		return call("get", node, keys.get(0), null, (client, deadline) -> {
			List<Future<CASValue<byte[]>>> futures = new ArrayList<>(keys.size());
			try {
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
				throw ex;
			}
		});
	}

	/**
	 * Reads one key.
	 * @param node the node
	 * @param key the key
	 * @return the value, or {@code null} when missing or the node is down or failed
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
		return call("set", node, key, false, (client, deadline) -> Boolean.TRUE
			.equals(await(client.set(key, expiration, bytes, RawBytesTranscoder.INSTANCE), deadline)));
	}

	/** Queues an {@code add} without waiting; not sent to a down node. */
	public void addAsync(MemcachedNode node, String key, int expiration, byte[] bytes) {
		send("add", node, key, (client) -> client.add(key, expiration, bytes, RawBytesTranscoder.INSTANCE));
	}

	/** Queues a {@code set} without waiting; not sent to a down node. */
	public void setAsync(MemcachedNode node, String key, int expiration, byte[] bytes) {
		send("set", node, key, (client) -> client.set(key, expiration, bytes, RawBytesTranscoder.INSTANCE));
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
		return call("cas", node, key, WriteOutcome.FAILED, (client, deadline) -> {
			OperationFuture<CASResponse> future = client.asyncCAS(key, cas, expiration, bytes,
					RawBytesTranscoder.INSTANCE);
			return casOutcome(await(future, deadline), future);
		});
	}

	/** What a compare-and-set answered; {@code null} (no answer) is a failure. */
	private static WriteOutcome casOutcome(@Nullable Object answer, OperationFuture<?> future) {
		if (!(answer instanceof CASResponse response)) {
			return WriteOutcome.FAILED;
		}
		return switch (response) {
			case OK -> new WriteOutcome(WriteResult.OK, casOf(future));
			case EXISTS -> new WriteOutcome(WriteResult.CONFLICT, 0);
			case NOT_FOUND -> new WriteOutcome(WriteResult.NOT_FOUND, 0);
			default -> WriteOutcome.FAILED;
		};
	}

	/**
	 * Queues a compare-and-set without waiting; not sent to a down node. A conflict is only
	 * logged at DEBUG.
	 */
	public void casAsync(MemcachedNode node, String key, long cas, int expiration, byte[] bytes) {
		send("cas", node, key, (client) -> client.asyncCAS(key, cas, expiration, bytes, RawBytesTranscoder.INSTANCE));
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
		return call("add", node, key, WriteOutcome.FAILED, (client, deadline) -> {
			OperationFuture<Boolean> future = client.add(key, expiration, bytes, RawBytesTranscoder.INSTANCE);
			if (Boolean.TRUE.equals(await(future, deadline))) {
				return new WriteOutcome(WriteResult.OK, casOf(future));
			}
			StatusCode status = future.getStatus().getStatusCode();
			return (status == StatusCode.ERR_EXISTS || status == StatusCode.ERR_NOT_STORED)
					? new WriteOutcome(WriteResult.CONFLICT, 0) : WriteOutcome.FAILED;
		});
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
		return call("set", node, key, WriteOutcome.FAILED, (client, deadline) -> {
			OperationFuture<Boolean> future = client.set(key, expiration, bytes, RawBytesTranscoder.INSTANCE);
			return Boolean.TRUE.equals(await(future, deadline)) ? new WriteOutcome(WriteResult.OK, casOf(future))
					: WriteOutcome.FAILED;
		});
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

	/**
	 * Adds to a counter item ({@code incr}) and waits for the answer; {@code by} 0 reads
	 * it. Counters never count as {@code get} or {@code set} in memcached's stats.
	 * @param node the node
	 * @param key the key
	 * @param by how much to add
	 * @return the value after the addition, -1 when the item is absent (it is not
	 * created), or {@code null} when the node is down or failed
	 */
	public @Nullable Long incr(MemcachedNode node, String key, long by) {
		return call("incr", node, key, null, (client, deadline) -> {
			Long value = await(client.asyncIncr(key, by), deadline);
			return (value != null) ? value : Long.valueOf(-1);
		});
	}

	/**
	 * Reads a counter item ({@code incr} by 0) without waiting and without judging the
	 * node: nothing waits on the answer with a timeout, so a node that is slow to answer
	 * is neither marked down nor has its connection reopened (for readers that only
	 * observe, and must not change what requests see).
	 * @param node the node
	 * @param key the key
	 * @param answer told the value (-1 when absent) on spymemcached's IO thread: must
	 * not block
	 * @return whether the read was sent (not to a down node)
	 */
	public boolean readCounter(MemcachedNode node, String key, java.util.function.LongConsumer answer) {
		MemcachedClient client = clientIfUp(node);
		if (client == null) {
			return false;
		}
		try {
			client.asyncIncr(key, 0L).addListener((done) -> {
				OperationStatus status = done.getStatus();
				if (status.isSuccess() || status.getStatusCode() == StatusCode.ERR_NOT_FOUND
						|| "NOT_FOUND".equals(status.getMessage())) {
					try {
						Object value = done.get(); // done: does not wait
						answer.accept((value instanceof Long number) ? number : -1);
					}
					catch (ExecutionException | RuntimeException ex) {
						// no answer: the reader treats the counter as unread
					}
				}
			});
			return true;
		}
		catch (RuntimeException ex) {
			return false;
		}
	}

	/** Queues a {@code touch} (new expiration, same value) without waiting; not sent to a down node. */
	public void touchAsync(MemcachedNode node, String key, int expiration) {
		send("touch", node, key, (client) -> client.touch(key, expiration));
	}

	/**
	 * Deletes a key and waits for the answer.
	 * @param node the node
	 * @param key the key
	 * @return {@code OK} if it was deleted, {@code NOT_FOUND} if it was not there, else
	 * {@code FAILED}
	 */
	public WriteResult delete(MemcachedNode node, String key) {
		return call("delete", node, key, WriteResult.FAILED,
				(client, deadline) -> Boolean.TRUE.equals(await(client.delete(key), deadline)) ? WriteResult.OK
						: WriteResult.NOT_FOUND);
	}

	/**
	 * Whether {@link #deleteIfUnchanged} is available: memcached's text protocol has no
	 * delete with a CAS token.
	 */
	public boolean canDeleteIfUnchanged() {
		return this.binaryProtocol;
	}

	/**
	 * Deletes a key only if nobody wrote it since the value with this CAS token was read
	 * or written (binary protocol only), and waits for the answer.
	 * @param node the node
	 * @param key the key
	 * @param cas the token of the value to delete
	 * @return {@code OK} if deleted, {@code CONFLICT} if the key holds another value,
	 * {@code NOT_FOUND} if it is gone, else {@code FAILED}
	 * @throws IllegalStateException over the text protocol
	 */
	public WriteResult deleteIfUnchanged(MemcachedNode node, String key, long cas) {
		Assert.state(this.binaryProtocol, "memcached's text protocol has no delete with a CAS token");
		return call("delete", node, key, WriteResult.FAILED, (client, deadline) -> {
			OperationFuture<Boolean> future = client.delete(key, cas);
			if (Boolean.TRUE.equals(await(future, deadline))) {
				return WriteResult.OK;
			}
			StatusCode status = future.getStatus().getStatusCode();
			return switch (status) {
				case ERR_EXISTS -> WriteResult.CONFLICT;
				case ERR_NOT_FOUND -> WriteResult.NOT_FOUND;
				default -> WriteResult.FAILED;
			};
		});
	}

	/**
	 * Sends several writes to one node at once (pipelined) and waits for their answers,
	 * all against one deadline: the call costs one round trip and waits at most the
	 * operation timeout, however many writes it holds. A write that times out or finds no
	 * connection marks the node down, as a single call does.
	 * @param node the node
	 * @param writes the writes, to different keys
	 * @return one outcome per write, in order: {@code OK} with the new CAS token (0 for
	 * deletes and over the text protocol), {@code CONFLICT} or {@code NOT_FOUND} as the
	 * write's kind says, {@code FAILED} when the node is down or did not answer
	 */
	public List<WriteOutcome> writeAll(MemcachedNode node, List<PipelinedWrite> writes) {
		List<WriteOutcome> failed = Collections.nCopies(writes.size(), WriteOutcome.FAILED);
		if (writes.isEmpty()) {
			return failed;
		}
		return call("write", node, writes.get(0).key(), failed, (client, deadline) -> {
			List<@Nullable OperationFuture<?>> futures = new ArrayList<>(writes.size());
			Exception failure = null;
			for (PipelinedWrite write : writes) {
				try {
					futures.add(send(client, write));
				}
				catch (RuntimeException ex) {
					futures.add(null);
					failure = (failure != null) ? failure : ex;
				}
			}
			List<WriteOutcome> outcomes = new ArrayList<>(writes.size());
			for (int i = 0; i < writes.size(); i++) {
				OperationFuture<?> future = futures.get(i);
				try {
					outcomes.add((future != null) ? outcome(writes.get(i).kind(), future, deadline) : WriteOutcome.FAILED);
				}
				catch (TimeoutException | ExecutionException | RuntimeException ex) {
					future.cancel(false);
					outcomes.add(WriteOutcome.FAILED);
					failure = (failure != null) ? failure : ex;
				}
			}
			if (failure != null) {
				failed("write", node, writes.get(0).key(), failure);
			}
			return outcomes;
		});
	}

	private static OperationFuture<?> send(MemcachedClient client, PipelinedWrite write) {
		byte[] bytes = write.bytes();
		return switch (write.kind()) {
			case CAS -> client.asyncCAS(write.key(), write.cas(), write.expiration(), bytes, RawBytesTranscoder.INSTANCE);
			case ADD -> client.add(write.key(), write.expiration(), bytes, RawBytesTranscoder.INSTANCE);
			case SET -> client.set(write.key(), write.expiration(), bytes, RawBytesTranscoder.INSTANCE);
			case DELETE -> client.delete(write.key());
		};
	}

	private static WriteOutcome outcome(PipelinedWrite.Kind kind, OperationFuture<?> future, long deadline)
			throws TimeoutException, ExecutionException {
		Object answer = await(future, deadline);
		StatusCode status = future.getStatus().getStatusCode();
		if (status == StatusCode.TIMEDOUT) {
			throw new TimeoutException(kind + " timed out");
		}
		if (status == StatusCode.CANCELLED) {
			throw new CancellationException(kind + " cancelled");
		}
		if (kind == PipelinedWrite.Kind.CAS) {
			return casOutcome(answer, future);
		}
		if (Boolean.TRUE.equals(answer)) {
			return new WriteOutcome(WriteResult.OK, (kind == PipelinedWrite.Kind.DELETE) ? 0 : casOf(future));
		}
		return switch (kind) {
			case ADD -> (status == StatusCode.ERR_EXISTS || status == StatusCode.ERR_NOT_STORED)
					? new WriteOutcome(WriteResult.CONFLICT, 0) : WriteOutcome.FAILED;
			case DELETE -> new WriteOutcome(WriteResult.NOT_FOUND, 0);
			default -> WriteOutcome.FAILED;
		};
	}

	/** Queues a {@code delete} without waiting; not sent to a down node. */
	public void deleteAsync(MemcachedNode node, String key) {
		send("delete", node, key, (client) -> client.delete(key));
	}

	/**
	 * Runs a call that waits for its answer, unless the node is down.
	 * @param failed what the call answers when the node is down or the call fails
	 */
	private <R extends @Nullable Object> R call(String operation, MemcachedNode node, String key, R failed,
			Exchange<R> exchange) {
		MemcachedClient client = clientIfUp(node);
		if (client == null) {
			return failed;
		}
		long start = System.nanoTime();
		long deadline = start + TimeUnit.MILLISECONDS.toNanos(this.timeoutMillis);
		try {
			R result = exchange.run(client, deadline);
			this.timer.record(operation, node, System.nanoTime() - start, true);
			return result;
		}
		catch (RuntimeException | TimeoutException | ExecutionException ex) {
			this.timer.record(operation, node, System.nanoTime() - start, false);
			failed(operation, node, key, ex);
			return failed;
		}
	}

	/**
	 * Queues an operation without waiting, unless the node is down. Its completion is
	 * looked at on a worker thread, never on spymemcached's IO thread.
	 */
	private void send(String operation, MemcachedNode node, String key,
			Function<MemcachedClient, OperationFuture<?>> request) {
		MemcachedClient client = clientIfUp(node);
		if (client == null) {
			return;
		}
		long start = System.nanoTime();
		try {
			request.apply(client).addListener((done) -> {
				OperationStatus status = done.getStatus();
				this.timer.record(operation, node, System.nanoTime() - start, status.isSuccess()
						|| (status.getStatusCode() != StatusCode.CANCELLED && status.getStatusCode() != StatusCode.TIMEDOUT));
				completed(operation, node, key, status);
			});
		}
		catch (RuntimeException ex) {
			failed(operation, node, key, ex);
		}
	}

	/** An unawaited operation completed: cancelled or timed out means its node failed. */
	private void completed(String operation, MemcachedNode node, String key, OperationStatus status) {
		if (status.isSuccess() || this.closed) {
			return;
		}
		if (status.getStatusCode() == StatusCode.CANCELLED) {
			this.availability.failed(node, operation + " cancelled (no connection)");
		}
		else if (status.getStatusCode() == StatusCode.TIMEDOUT) {
			this.availability.failed(node, operation + " timed out");
		}
		else if (logger.isDebugEnabled()) {
			logger.debug(operation + " " + SessionIdTag.ofKey(key) + " on " + node + ": " + status.getMessage());
		}
	}

	private @Nullable MemcachedClient clientIfUp(MemcachedNode node) {
		if (this.closed || !this.availability.isAvailable(node)) {
			return null;
		}
		NodeConnection connection = this.connections.get(node);
		return (connection != null) ? connection.client() : null;
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

	/**
	 * A call failed. A timeout, a cancellation (no connection) or a client that cannot
	 * take the call marks the node down, logged once by the availability. A call the node
	 * refused (bad key, server error) or an interrupt says nothing about the node: it is
	 * logged at WARN, at most once per node and interval.
	 */
	private void failed(String operation, MemcachedNode node, String key, Exception ex) {
		if (this.closed) {
			return;
		}
		Throwable cause = (ex instanceof ExecutionException && ex.getCause() != null) ? ex.getCause() : ex;
		if (cause instanceof IllegalArgumentException || cause instanceof OperationException
				|| cause instanceof InterruptedException) {
			warn(operation, node, key, ex);
			return;
		}
		if (logger.isDebugEnabled()) {
			logger.debug("memcached " + operation + " of " + SessionIdTag.ofKey(key) + " on node " + node + " failed", ex);
		}
		String reason;
		if (cause instanceof TimeoutException || cause instanceof OperationTimeoutException) {
			reason = " timed out after " + this.timeoutMillis + " ms";
		}
		else if (cause instanceof CancellationException) {
			reason = " cancelled (no connection)";
		}
		else {
			reason = " failed: " + cause;
		}
		this.availability.failed(node, operation + reason);
	}

	/**
	 * Logs a failure at WARN at most once per node and interval, so that a failure that
	 * repeats shows in the log without flooding it with one line per request.
	 */
	private void warn(String operation, MemcachedNode node, String key, Exception ex) {
		String message = "memcached " + operation + " of " + SessionIdTag.ofKey(key) + " on node " + node + " failed: " + ex;
		long now = System.nanoTime();
		Long last = this.lastWarnings.get(node);
		boolean due = (last == null) ? this.lastWarnings.putIfAbsent(node, now) == null
				: (now - last >= WARN_INTERVAL_NANOS && this.lastWarnings.replace(node, last, now));
		if (due) {
			logger.warn(message + " (more such failures of this node in the next "
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
		this.workers.shutdown();
	}

	/** Sends requests and waits for their answers until the deadline. */
	@FunctionalInterface
	private interface Exchange<R extends @Nullable Object> {

		R run(MemcachedClient client, long deadline) throws TimeoutException, ExecutionException;

	}

}
