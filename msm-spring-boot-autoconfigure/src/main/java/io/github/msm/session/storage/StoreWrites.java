package io.github.msm.session.storage;

import io.github.msm.session.node.MemcachedNode;
import net.spy.memcached.CASResponse;
import net.spy.memcached.internal.OperationFuture;
import net.spy.memcached.ops.StatusCode;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * The store's single writes, awaited or queued, and how spymemcached's answers to a write
 * read as a {@link WriteOutcome} (shared with {@link PipelinedWrites}). See
 * {@link MemcachedStore} for what each answers.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class StoreWrites {

	private final NodeCalls calls;

	private final boolean binaryProtocol;

	StoreWrites(NodeCalls calls, boolean binaryProtocol) {
		this.calls = calls;
		this.binaryProtocol = binaryProtocol;
	}

	boolean set(MemcachedNode node, String key, int expiration, byte[] bytes) {
		return this.calls.call("set", node, key, false, (client, deadline) -> Boolean.TRUE
			.equals(NodeCalls.await(client.set(key, expiration, bytes, RawBytesTranscoder.INSTANCE), deadline)));
	}

	void addAsync(MemcachedNode node, String key, int expiration, byte[] bytes) {
		this.calls.send("add", node, key, (client) -> client.add(key, expiration, bytes, RawBytesTranscoder.INSTANCE));
	}

	void setAsync(MemcachedNode node, String key, int expiration, byte[] bytes) {
		this.calls.send("set", node, key, (client) -> client.set(key, expiration, bytes, RawBytesTranscoder.INSTANCE));
	}

	WriteOutcome cas(MemcachedNode node, String key, long cas, int expiration, byte[] bytes) {
		return this.calls.call("cas", node, key, WriteOutcome.FAILED, (client, deadline) -> {
			OperationFuture<CASResponse> future = client.asyncCAS(key, cas, expiration, bytes,
					RawBytesTranscoder.INSTANCE);
			return casOutcome(NodeCalls.await(future, deadline), future);
		});
	}

	void casAsync(MemcachedNode node, String key, long cas, int expiration, byte[] bytes) {
		this.calls.send("cas", node, key,
				(client) -> client.asyncCAS(key, cas, expiration, bytes, RawBytesTranscoder.INSTANCE));
	}

	WriteOutcome add(MemcachedNode node, String key, int expiration, byte[] bytes) {
		return this.calls.call("add", node, key, WriteOutcome.FAILED, (client, deadline) -> {
			OperationFuture<Boolean> future = client.add(key, expiration, bytes, RawBytesTranscoder.INSTANCE);
			if (Boolean.TRUE.equals(NodeCalls.await(future, deadline))) {
				return new WriteOutcome(WriteResult.OK, casOf(future));
			}
			StatusCode status = future.getStatus().getStatusCode();
			return (status == StatusCode.ERR_EXISTS || status == StatusCode.ERR_NOT_STORED)
					? new WriteOutcome(WriteResult.CONFLICT, 0) : WriteOutcome.FAILED;
		});
	}

	WriteOutcome setAndGetCas(MemcachedNode node, String key, int expiration, byte[] bytes) {
		return this.calls.call("set", node, key, WriteOutcome.FAILED, (client, deadline) -> {
			OperationFuture<Boolean> future = client.set(key, expiration, bytes, RawBytesTranscoder.INSTANCE);
			return Boolean.TRUE.equals(NodeCalls.await(future, deadline))
					? new WriteOutcome(WriteResult.OK, casOf(future)) : WriteOutcome.FAILED;
		});
	}

	void touchAsync(MemcachedNode node, String key, int expiration) {
		this.calls.send("touch", node, key, (client) -> client.touch(key, expiration));
	}

	WriteResult delete(MemcachedNode node, String key) {
		return this.calls.call("delete", node, key, WriteResult.FAILED,
				(client, deadline) -> Boolean.TRUE.equals(NodeCalls.await(client.delete(key), deadline))
						? WriteResult.OK : WriteResult.NOT_FOUND);
	}

	boolean canDeleteIfUnchanged() {
		return this.binaryProtocol;
	}

	WriteResult deleteIfUnchanged(MemcachedNode node, String key, long cas) {
		Assert.state(this.binaryProtocol, "memcached's text protocol has no delete with a CAS token");
		return this.calls.call("delete", node, key, WriteResult.FAILED, (client, deadline) -> {
			OperationFuture<Boolean> future = client.delete(key, cas);
			if (Boolean.TRUE.equals(NodeCalls.await(future, deadline))) {
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

	void deleteAsync(MemcachedNode node, String key) {
		this.calls.send("delete", node, key, (client) -> client.delete(key));
	}

	/** What a compare-and-set answered; {@code null} (no answer) is a failure. */
	static WriteOutcome casOutcome(@Nullable Object answer, OperationFuture<?> future) {
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

	/** The CAS token a completed write reported; 0 when the protocol does not report it. */
	static long casOf(OperationFuture<?> future) {
		try {
			Long cas = future.getCas();
			return (cas != null) ? cas : 0;
		}
		catch (RuntimeException ex) {
			return 0;
		}
	}

}
