package io.github.msm.session.storage;

import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

import io.github.msm.session.log.SessionIdTag;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeAvailability;
import net.spy.memcached.MemcachedClient;
import net.spy.memcached.OperationTimeoutException;
import net.spy.memcached.internal.OperationFuture;
import net.spy.memcached.ops.OperationException;
import net.spy.memcached.ops.OperationStatus;
import net.spy.memcached.ops.StatusCode;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * Runs one call against one node, the same way for every read and write of the store:
 * a call to a down node fails at once without touching the network, a call waits at most
 * the operation timeout (its deadline taken before its requests are queued), its time
 * goes to the {@link OperationTimer}, and a call that times out or finds no connection
 * marks its node down. Failures never throw: the caller gets the answer it named for
 * failure.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class NodeCalls {

	private static final long WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

	private static final Log logger = LogFactory.getLog(MemcachedStore.class);

	private final Map<MemcachedNode, NodeConnection> connections;

	private final NodeAvailability availability;

	private final long timeoutMillis;

	private final long timeoutNanos;

	private final Map<MemcachedNode, Long> lastWarnings = new ConcurrentHashMap<>();

	private volatile boolean closed;

	private volatile OperationTimer timer = OperationTimer.NONE;

	NodeCalls(Map<MemcachedNode, NodeConnection> connections, NodeAvailability availability, long timeoutMillis) {
		this.connections = connections;
		this.availability = availability;
		this.timeoutMillis = timeoutMillis;
		this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
	}

	void setTimer(OperationTimer timer) {
		this.timer = timer;
	}

	/** From now on failures are not judged or logged: the store is closing. */
	void close() {
		this.closed = true;
	}

	boolean isClosed() {
		return this.closed;
	}

	NodeAvailability availability() {
		return this.availability;
	}

	/**
	 * Runs a call that waits for its answer, unless the node is down.
	 * @param failed what the call answers when the node is down or the call fails
	 */
	<R extends @Nullable Object> R call(String operation, MemcachedNode node, String key, R failed,
			Exchange<R> exchange) {
		MemcachedClient client = clientIfUp(node);
		if (client == null) {
			return failed;
		}
		long start = System.nanoTime();
		long deadline = start + this.timeoutNanos;
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
	void send(String operation, MemcachedNode node, String key, Function<MemcachedClient, OperationFuture<?>> request) {
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

	/** The node's client, or {@code null} when the node is down or the store closed. */
	@Nullable MemcachedClient clientIfUp(MemcachedNode node) {
		if (this.closed || !this.availability.isAvailable(node)) {
			return null;
		}
		NodeConnection connection = this.connections.get(node);
		return (connection != null) ? connection.client() : null;
	}

	/** Waits for the answer until the deadline (a {@link System#nanoTime()} value). */
	static <T> @Nullable T await(Future<T> future, long deadline) throws TimeoutException, ExecutionException {
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
	void failed(String operation, MemcachedNode node, String key, Exception ex) {
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

	/** Sends requests and waits for their answers until the deadline. */
	@FunctionalInterface
	interface Exchange<R extends @Nullable Object> {

		R run(MemcachedClient client, long deadline) throws TimeoutException, ExecutionException;

	}

}
