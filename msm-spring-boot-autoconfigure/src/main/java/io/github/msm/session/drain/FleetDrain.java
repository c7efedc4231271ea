package io.github.msm.session.drain;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeAvailability;
import io.github.msm.session.storage.MemcachedStore;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * Drain state shared by every server of a fleet, kept in memcached itself.
 *
 * <p>
 * A drain (or undrain) of node {@code n2} is written as the item
 * {@code drain:<key prefix>n2}, never expiring, to every node that is up: the number
 * {@code 2 × epoch millis + 1} for a drain, {@code 2 × epoch millis} for an undrain. Every server
 * reads these items from every node that is up, every {@link #DEFAULT_POLL_INTERVAL} and
 * at start, takes the newest record per node, applies it to its own
 * {@link NodeAvailability}, and writes it to any node that lacks it or holds an older one
 * (a node that was down or restarted empty meanwhile). So a drain sent to any one server,
 * through the load balancer, holds for all of them within a poll interval, and survives a
 * restart of the servers and of any memcached node but the last.
 *
 * <p>
 * Records are ordered by the wall clock of the server that wrote them: two commands for
 * the same node sent within the clock skew of two servers may be applied in the wrong
 * order; send the second one again. The items are read every poll, so memcached's LRU
 * never evicts them. With no node up, a drain is applied on this server only and written
 * to the nodes by the next poll that finds one up, unless a newer record is there.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class FleetDrain implements AutoCloseable {

	/** How often every server reads the drain records. */
	public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(5);

	private static final Log logger = LogFactory.getLog(FleetDrain.class);

	private final MemcachedStore store;

	private final String keyPrefix;

	private final Clock clock;

	private final Duration pollInterval;

	/** The newest record this server knows per node, written or read. */
	private final Map<MemcachedNode, Record> known = new LinkedHashMap<>();

	private @Nullable ScheduledExecutorService poller;

	/**
	 * @param store the store whose nodes hold the records and are drained
	 * @param keyPrefix the store's key prefix ({@code msm.key-prefix})
	 * @param clock the clock that stamps records
	 * @param pollInterval how often the records are read
	 */
	public FleetDrain(MemcachedStore store, String keyPrefix, Clock clock, Duration pollInterval) {
		Assert.notNull(store, "store must not be null");
		Assert.notNull(keyPrefix, "keyPrefix must not be null");
		Assert.notNull(clock, "clock must not be null");
		Assert.isTrue(!pollInterval.isNegative() && !pollInterval.isZero(), "pollInterval must be positive");
		this.store = store;
		this.keyPrefix = keyPrefix;
		this.clock = clock;
		this.pollInterval = pollInterval;
	}

	/** Reads the records once, on the calling thread, then every poll interval. */
	public synchronized void start() {
		if (this.poller != null) {
			return;
		}
		poll();
		ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor((task) -> {
			Thread thread = new Thread(task, "msm-fleet-drain");
			thread.setDaemon(true);
			return thread;
		});
		long millis = this.pollInterval.toMillis();
		poller.scheduleWithFixedDelay(this::pollQuietly, millis, millis, TimeUnit.MILLISECONDS);
		this.poller = poller;
	}

	/**
	 * Drains or undrains a node for the fleet: applied here at once, written to every node
	 * that is up, and applied by the other servers at their next poll.
	 * @param node the node
	 * @param drained whether to drain it
	 * @return the ids of the nodes that stored the record (empty: only this server knows
	 * it until a node is up)
	 */
	public synchronized List<String> set(MemcachedNode node, boolean drained) {
		Record record = new Record(drained, this.clock.millis());
		this.known.put(node, record);
		apply(node, drained);
		List<String> storedOn = new ArrayList<>();
		for (MemcachedNode holder : this.store.availability().nodes()) {
			if (this.store.availability().isAvailable(holder)
					&& this.store.set(holder, key(node), 0, record.bytes())) {
				storedOn.add(holder.id());
			}
		}
		return storedOn;
	}

	/**
	 * Reads the records from every node that is up, applies the newest per node, and
	 * repairs nodes that lack it. Records are read as counters ({@code incr} by 0), so
	 * that polling shows in no {@code get} statistics of the nodes.
	 */
	public synchronized void poll() {
		NodeAvailability availability = this.store.availability();
		List<MemcachedNode> nodes = availability.nodes();
		Map<MemcachedNode, Map<MemcachedNode, Long>> read = new LinkedHashMap<>();
		CountDownLatch answers = new CountDownLatch(nodes.size() * nodes.size());
		for (MemcachedNode holder : nodes) {
			Map<MemcachedNode, Long> values = new ConcurrentHashMap<>();
			boolean sent = true;
			for (MemcachedNode node : nodes) {
				sent = sent && this.store.readCounter(holder, key(node), (value) -> {
					values.put(node, value);
					answers.countDown();
				});
				if (!sent) {
					answers.countDown();
				}
			}
			if (sent) {
				read.put(holder, values);
			}
		}
		await(answers);
		for (MemcachedNode node : nodes) {
			Record newest = this.known.get(node);
			for (Map<MemcachedNode, Long> values : read.values()) {
				Record stored = Record.of(values.get(node));
				if (stored != null && (newest == null || stored.at() > newest.at())) {
					newest = stored;
				}
			}
			if (newest == null) {
				continue;
			}
			this.known.put(node, newest);
			apply(node, newest.drained());
			for (Map.Entry<MemcachedNode, Map<MemcachedNode, Long>> holder : read.entrySet()) {
				Long value = holder.getValue().get(node);
				Record stored = Record.of(value);
				// a holder that did not answer is left alone; one without the record, or with
				// an older one, gets the newest
				if (value != null && (stored == null || stored.at() < newest.at())) {
					this.store.set(holder.getKey(), key(node), 0, newest.bytes());
				}
			}
		}
	}

	private void await(CountDownLatch answers) {
		try {
			answers.await(this.store.operationTimeout().toNanos(), TimeUnit.NANOSECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private void pollQuietly() {
		try {
			poll();
		}
		catch (RuntimeException ex) {
			logger.warn("Reading the fleet's drain records failed; trying again in " + this.pollInterval.toSeconds()
					+ " s", ex);
		}
	}

	private void apply(MemcachedNode node, boolean drained) {
		if (drained) {
			this.store.availability().drain(node);
		}
		else {
			this.store.availability().undrain(node);
		}
	}

	String key(MemcachedNode node) {
		return "drain:" + this.keyPrefix + node.id();
	}

	@Override
	public synchronized void close() {
		if (this.poller != null) {
			this.poller.shutdownNow();
			this.poller = null;
		}
	}

	/**
	 * A drain or undrain and when it was sent, stored as the number
	 * {@code 2 × epoch millis + (drained ? 1 : 0)}: memcached reads it as a counter.
	 */
	record Record(boolean drained, long at) {

		byte[] bytes() {
			return Long.toString(this.at * 2 + (this.drained ? 1 : 0)).getBytes(StandardCharsets.US_ASCII);
		}

		/** The record a counter holds, or {@code null} for none (-1: absent). */
		static @Nullable Record of(@Nullable Long value) {
			if (value == null || value < 0) {
				return null;
			}
			return new Record((value & 1) == 1, value / 2);
		}

	}

}
