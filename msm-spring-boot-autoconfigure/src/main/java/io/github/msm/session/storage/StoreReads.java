package io.github.msm.session.storage;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongConsumer;

import io.github.msm.session.node.MemcachedNode;
import net.spy.memcached.MemcachedClient;
import net.spy.memcached.MemcachedConnection;
import net.spy.memcached.OperationFactory;
import net.spy.memcached.internal.CheckedOperationTimeoutException;
import net.spy.memcached.ops.GetsOperation;
import net.spy.memcached.ops.Operation;
import net.spy.memcached.ops.OperationState;
import net.spy.memcached.ops.OperationStatus;
import net.spy.memcached.ops.StatusCode;
import org.jspecify.annotations.Nullable;

/**
 * The store's reads: values with their CAS tokens, pipelined when a call reads several
 * keys, and counters. See {@link MemcachedStore} for what each answers.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class StoreReads {

	private final NodeCalls calls;

	private final OperationFactory operations;

	StoreReads(NodeCalls calls, OperationFactory operations) {
		this.calls = calls;
		this.operations = operations;
	}

	/**
	 * Reads the keys with one {@code gets} each, queued together so they go out in one
	 * write, and waits for all answers on one latch: the request thread is woken once,
	 * when the last answer is in, not once per key (spymemcached's futures each carry a
	 * latch of their own). Timeouts, cancellations and errors are judged as
	 * spymemcached's futures judge them: a read that times out counts once towards the
	 * connection's consecutive timeouts, and its unanswered operations are cancelled.
	 */
	@Nullable Map<String, StoredValue> readAll(MemcachedNode node, List<String> keys) {
		if (keys.isEmpty()) {
			return this.calls.availability().isAvailable(node) ? Map.of() : null;
		}
		return this.calls.call("get", node, keys.get(0), null, (client, deadline) -> {
			PipelinedGets gets = new PipelinedGets(keys.size());
			try {
				MemcachedConnection connection = client.getConnection();
				for (int i = 0; i < keys.size(); i++) {
					connection.enqueueOperation(keys.get(i), gets.operation(i, keys.get(i), this.operations));
				}
				gets.await(deadline);
			}
			catch (RuntimeException | TimeoutException | ExecutionException ex) {
				gets.cancelUnanswered();
				throw ex;
			}
			Map<String, StoredValue> found = new HashMap<>(4);
			for (int i = 0; i < keys.size(); i++) {
				byte[] value = gets.values[i];
				if (value != null) {
					found.put(keys.get(i), new StoredValue(value, gets.tokens[i]));
				}
			}
			return found;
		});
	}

	@Nullable Long incr(MemcachedNode node, String key, long by) {
		return this.calls.call("incr", node, key, null, (client, deadline) -> {
			Long value = NodeCalls.await(client.asyncIncr(key, by), deadline);
			return (value != null) ? value : Long.valueOf(-1);
		});
	}

	boolean readCounter(MemcachedNode node, String key, LongConsumer answer) {
		MemcachedClient client = this.calls.clientIfUp(node);
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

	/** The {@code gets} of one pipelined read, answered into arrays and counted down on one latch. */
	private static final class PipelinedGets {

		final byte[] @Nullable [] values;

		final long[] tokens;

		private final @Nullable Operation[] operations;

		private final CountDownLatch answered;

		PipelinedGets(int size) {
			this.values = new byte[size][];
			this.tokens = new long[size];
			this.operations = new Operation[size];
			this.answered = new CountDownLatch(size);
		}

		Operation operation(int index, String key, OperationFactory factory) {
			Operation operation = factory.gets(key, new GetsOperation.Callback() {

				@Override
				public void gotData(String answeredKey, int flags, long cas, byte[] data) {
					PipelinedGets.this.values[index] = data;
					PipelinedGets.this.tokens[index] = cas;
				}

				@Override
				public void receivedStatus(OperationStatus status) {
					// a miss leaves the value null; failures are read off the operation
				}

				@Override
				public void complete() {
					PipelinedGets.this.answered.countDown(); // also when cancelled or timed out
				}

			});
			this.operations[index] = operation;
			return operation;
		}

		/** Waits for every answer, then fails as a future would for the first failed one. */
		void await(long deadline) throws TimeoutException, ExecutionException {
			try {
				if (!this.answered.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
					Operation waitedFor = firstUnanswered();
					MemcachedConnection.opTimedOut(waitedFor); // once per read, as one future's get
					waitedFor.timeOut();
					throw new CheckedOperationTimeoutException("Timed out waiting for operation", waitedFor);
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new ExecutionException(ex);
			}
			MemcachedConnection.opSucceeded(this.operations[0]);
			for (Operation operation : this.operations) {
				if (operation.hasErrored()) {
					throw new ExecutionException(operation.getException());
				}
				if (operation.isCancelled()) {
					throw new ExecutionException(new CancellationException("Cancelled"));
				}
				if (operation.isTimedOut()) {
					throw new ExecutionException(new CheckedOperationTimeoutException("Operation timed out.", operation));
				}
			}
		}

		private Operation firstUnanswered() {
			for (Operation operation : this.operations) {
				if (operation.getState() != OperationState.COMPLETE) {
					return operation;
				}
			}
			return this.operations[0];
		}

		/** After a failure: operations still queued or unanswered are not sent or waited for. */
		void cancelUnanswered() {
			for (Operation operation : this.operations) {
				if (operation != null && operation.getState() != OperationState.COMPLETE) {
					operation.cancel();
				}
			}
		}

	}

}
