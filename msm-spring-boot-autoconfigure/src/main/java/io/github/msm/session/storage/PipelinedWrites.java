package io.github.msm.session.storage;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

import io.github.msm.session.node.MemcachedNode;
import net.spy.memcached.MemcachedClient;
import net.spy.memcached.internal.OperationFuture;
import net.spy.memcached.ops.StatusCode;
import org.jspecify.annotations.Nullable;

/**
 * Several writes to one node sent at once and awaited against one deadline, so that a
 * batch costs one round trip. See {@link MemcachedStore#writeAll}.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class PipelinedWrites {

	private final NodeCalls calls;

	PipelinedWrites(NodeCalls calls) {
		this.calls = calls;
	}

	List<WriteOutcome> writeAll(MemcachedNode node, List<PipelinedWrite> writes) {
		List<WriteOutcome> failed = Collections.nCopies(writes.size(), WriteOutcome.FAILED);
		if (writes.isEmpty()) {
			return failed;
		}
		return this.calls.call("write", node, writes.get(0).key(), failed, (client, deadline) -> {
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
				this.calls.failed("write", node, writes.get(0).key(), failure);
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
		Object answer = NodeCalls.await(future, deadline);
		StatusCode status = future.getStatus().getStatusCode();
		if (status == StatusCode.TIMEDOUT) {
			throw new TimeoutException(kind + " timed out");
		}
		if (status == StatusCode.CANCELLED) {
			throw new CancellationException(kind + " cancelled");
		}
		if (kind == PipelinedWrite.Kind.CAS) {
			return StoreWrites.casOutcome(answer, future);
		}
		if (Boolean.TRUE.equals(answer)) {
			return new WriteOutcome(WriteResult.OK,
					(kind == PipelinedWrite.Kind.DELETE) ? 0 : StoreWrites.casOf(future));
		}
		return switch (kind) {
			case ADD -> (status == StatusCode.ERR_EXISTS || status == StatusCode.ERR_NOT_STORED)
					? new WriteOutcome(WriteResult.CONFLICT, 0) : WriteOutcome.FAILED;
			case DELETE -> new WriteOutcome(WriteResult.NOT_FOUND, 0);
			default -> WriteOutcome.FAILED;
		};
	}

}
