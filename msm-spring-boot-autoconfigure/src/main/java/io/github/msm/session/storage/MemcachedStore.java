package io.github.msm.session.storage;

import java.time.Clock;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeAvailability;
import net.spy.memcached.OperationFactory;
import net.spy.memcached.protocol.ascii.AsciiOperationFactory;
import net.spy.memcached.protocol.binary.BinaryOperationFactory;
import org.jspecify.annotations.Nullable;

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

	/** The longest a probe waits for a node to answer. */
	private static final Duration MAX_PROBE_TIMEOUT = Duration.ofSeconds(1);

	private final Map<MemcachedNode, NodeConnection> connections;

	private final NodeAvailability availability;

	private final NodeProbe probe;

	private final OperationFactory operations;

	private final ExecutorService workers = NodeClients.workers();

	private final long timeoutMillis;

	private final ConnectionSettings settings;

	private final OptionalInt serverItemSizeMax;

	private final NodeCalls calls;

	private final StoreReads reads;

	private final StoreWrites writes;

	private final PipelinedWrites pipelined;

	private volatile boolean closed;

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
		this.availability = new NodeAvailability(nodes, Clock.systemUTC());
		Map<MemcachedNode, NodeConnection> connections = new LinkedHashMap<>();
		OperationFactory operations = binaryProtocol ? new BinaryOperationFactory() : new AsciiOperationFactory();
		this.operations = operations;
		Duration probeTimeout = (operationTimeout.compareTo(MAX_PROBE_TIMEOUT) < 0) ? operationTimeout
				: MAX_PROBE_TIMEOUT;
		this.probe = new NodeProbe(connections, this.availability, operations, probeTimeout, settings);
		for (MemcachedNode node : nodes) {
			connections.put(node, new NodeConnection(node,
					(observer) -> NodeClients.connectionFactory(settings, this.workers, observer), this.probe::wakeUp));
		}
		this.connections = Collections.unmodifiableMap(connections);
		this.calls = new NodeCalls(this.connections, this.availability, this.timeoutMillis);
		this.reads = new StoreReads(this.calls, operations);
		this.writes = new StoreWrites(this.calls, binaryProtocol);
		this.pipelined = new PipelinedWrites(this.calls);
		NodeClients.connect(this.connections, this.availability, this.timeoutMillis);
		this.probe.start();
		// after the first probe, which leaves hung nodes down: they would hold this up
		this.serverItemSizeMax = NodeClients.itemSizeMax(this.connections.keySet(), this.calls, settings.isProxy());
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
		this.calls.setTimer((timer != null) ? timer : OperationTimer.NONE);
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
		return this.reads.readAll(node, keys);
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
		return this.writes.set(node, key, expiration, bytes);
	}

	/** Queues an {@code add} without waiting; not sent to a down node. */
	public void addAsync(MemcachedNode node, String key, int expiration, byte[] bytes) {
		this.writes.addAsync(node, key, expiration, bytes);
	}

	/** Queues a {@code set} without waiting; not sent to a down node. */
	public void setAsync(MemcachedNode node, String key, int expiration, byte[] bytes) {
		this.writes.setAsync(node, key, expiration, bytes);
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
		return this.writes.cas(node, key, cas, expiration, bytes);
	}

	/**
	 * Queues a compare-and-set without waiting; not sent to a down node. A conflict is only
	 * logged at DEBUG.
	 */
	public void casAsync(MemcachedNode node, String key, long cas, int expiration, byte[] bytes) {
		this.writes.casAsync(node, key, cas, expiration, bytes);
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
		return this.writes.add(node, key, expiration, bytes);
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
		return this.writes.setAndGetCas(node, key, expiration, bytes);
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
		return this.reads.incr(node, key, by);
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
	public boolean readCounter(MemcachedNode node, String key, LongConsumer answer) {
		return this.reads.readCounter(node, key, answer);
	}

	/** Queues a {@code touch} (new expiration, same value) without waiting; not sent to a down node. */
	public void touchAsync(MemcachedNode node, String key, int expiration) {
		this.writes.touchAsync(node, key, expiration);
	}

	/**
	 * Deletes a key and waits for the answer.
	 * @param node the node
	 * @param key the key
	 * @return {@code OK} if it was deleted, {@code NOT_FOUND} if it was not there, else
	 * {@code FAILED}
	 */
	public WriteResult delete(MemcachedNode node, String key) {
		return this.writes.delete(node, key);
	}

	/**
	 * Whether {@link #deleteIfUnchanged} is available: memcached's text protocol has no
	 * delete with a CAS token.
	 */
	public boolean canDeleteIfUnchanged() {
		return this.writes.canDeleteIfUnchanged();
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
		return this.writes.deleteIfUnchanged(node, key, cas);
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
		return this.pipelined.writeAll(node, writes);
	}

	/** Queues a {@code delete} without waiting; not sent to a down node. */
	public void deleteAsync(MemcachedNode node, String key) {
		this.writes.deleteAsync(node, key);
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
		this.calls.close();
		this.probe.stop();
		this.connections.forEach((node, connection) -> connection.close(this.availability.isAvailable(node) ? 1000 : 0));
		this.workers.shutdown();
	}

}
