package io.github.msm.session.storage;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;
import java.util.function.LongConsumer;

import io.github.msm.session.node.MemcachedNode;
import net.spy.memcached.CASValue;
import net.spy.memcached.MemcachedClient;
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

	StoreReads(NodeCalls calls) {
		this.calls = calls;
	}

	@Nullable Map<String, StoredValue> readAll(MemcachedNode node, List<String> keys) {
		if (keys.isEmpty()) {
			return this.calls.availability().isAvailable(node) ? Map.of() : null;
		}
		return this.calls.call("get", node, keys.get(0), null, (client, deadline) -> {
			List<Future<CASValue<byte[]>>> futures = new ArrayList<>(keys.size());
			try {
				for (String key : keys) {
					futures.add(client.asyncGets(key, RawBytesTranscoder.INSTANCE));
				}
				Map<String, StoredValue> found = new LinkedHashMap<>();
				for (int i = 0; i < keys.size(); i++) {
					CASValue<byte[]> value = NodeCalls.await(futures.get(i), deadline);
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

}
