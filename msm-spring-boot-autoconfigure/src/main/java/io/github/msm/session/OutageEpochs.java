package io.github.msm.session;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeSelector;
import io.github.msm.session.storage.MemcachedStore;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * Lets every server learn of an outage of a node that only another server saw: a hang
 * shorter than this server's probe interval, during which another server moved sessions
 * off the node or logged them out. The node still holds the old copies and answers again
 * as if nothing happened; only the other nodes hold the tombstones.
 *
 * <p>
 * A server that moves or ends a session whose node it takes for down first
 * <em>announces</em> the outage: it adds one to a small counter per node,
 * {@code outage:<node>}, on every other node that is up, and then waits the
 * <em>lease</em> before it answers. Every server reads the counters in the background
 * (one {@code incr 0} per counter and node, every {@code period}; {@code incr} is
 * neither a get nor a set in memcached's stats, and creates nothing), and before it
 * serves a session read from a node it makes sure that its last reading started less
 * than a lease before (else it reads them once more, in the request). So a read that
 * ends after a move was answered always knows of the outage announced before it. A
 * server that sees a node's counter change then checks every session it reads from that
 * node against the other nodes for {@code window}, and each session once within the
 * recovery window after that (see {@link SessionFailover#checkAfterReturn}). A mover
 * announces again when its last announcement is older than the window less two leases,
 * so that every move falls within a window others know of.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class OutageEpochs implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(OutageEpochs.class);

	/** From how many other nodes each counter is read. */
	private static final int READ_FROM = 2;

	private static final byte[] FIRST = "1".getBytes(StandardCharsets.US_ASCII);

	private final MemcachedStore store;

	private final NodeSelector nodes;

	private final SessionKeys keys;

	private final long leaseNanos;

	private final long windowNanos;

	private final Consumer<MemcachedNode> outageSeen;

	private final ScheduledExecutorService poller;

	/** The time source of leases and windows, in nanos ({@code System::nanoTime} but in tests). */
	private final LongSupplier ticker;

	/** The last value read of each node's counter. */
	private final Map<MemcachedNode, Long> known = new ConcurrentHashMap<>();

	/** When this server last saw each node's counter change (or changed it), in nanos. */
	private final Map<MemcachedNode, Long> changedAt = new ConcurrentHashMap<>();

	/** When this server last announced an outage of each node, in nanos. */
	private final Map<MemcachedNode, Long> announcedAt = new ConcurrentHashMap<>();

	/** When the last reading of each node's counter that got an answer started, in nanos. */
	private final Map<MemcachedNode, Long> readAt = new ConcurrentHashMap<>();

	/**
	 * @param store the memcached access
	 * @param nodes the nodes and their availability
	 * @param keys the key layout
	 * @param period how often the counters are read in the background
	 * @param lease how old the last reading may be when a session is served; a mover
	 * waits this long after an announcement
	 * @param window how long after a change every read from the node is checked
	 * @param outageSeen told when another server announced an outage of a node
	 */
	OutageEpochs(MemcachedStore store, NodeSelector nodes, SessionKeys keys, Duration period, Duration lease,
			Duration window, Consumer<MemcachedNode> outageSeen) {
		this(store, nodes, keys, period, lease, window, outageSeen, System::nanoTime);
	}

	/**
	 * @param ticker the time source of leases and windows, in nanos
	 * @see #OutageEpochs(MemcachedStore, NodeSelector, SessionKeys, Duration, Duration,
	 * Duration, Consumer)
	 */
	OutageEpochs(MemcachedStore store, NodeSelector nodes, SessionKeys keys, Duration period, Duration lease,
			Duration window, Consumer<MemcachedNode> outageSeen, LongSupplier ticker) {
		this.ticker = ticker;
		this.store = store;
		this.nodes = nodes;
		this.keys = keys;
		this.leaseNanos = lease.toNanos();
		this.windowNanos = window.toNanos();
		this.outageSeen = outageSeen;
		this.poller = Executors.newSingleThreadScheduledExecutor((runnable) -> {
			Thread thread = new Thread(runnable, "msm-outage-epochs");
			thread.setDaemon(true);
			return thread;
		});
		this.poller.scheduleWithFixedDelay(this::pollQuietly, 0, period.toMillis(), TimeUnit.MILLISECONDS);
	}

	/**
	 * Makes sure this server knows of every outage of the node announced more than a
	 * lease ago: reads its counter now unless the background did within the lease.
	 * @return whether it does; {@code false} when no node answered in time, and the
	 * caller must then act as if an outage had been announced
	 */
	boolean awaitFresh(MemcachedNode node) {
		Long read = this.readAt.get(node);
		if (read != null && this.ticker.getAsLong() - read < this.leaseNanos) {
			return true;
		}
		return readCounters(java.util.List.of(node));
	}

	/** Whether reads from the node are checked each time: its counter changed lately. */
	boolean isRecent(MemcachedNode node) {
		Long at = this.changedAt.get(node);
		return at != null && this.ticker.getAsLong() - at < this.windowNanos;
	}

	/**
	 * Announces an outage of a node this server takes for down, before it moves a session
	 * off it or ends one on it: every server learns of it within a lease, so this waits a
	 * lease after announcing (at most once per window less two leases).
	 */
	void announce(MemcachedNode node) {
		long now = this.ticker.getAsLong();
		Long last = this.announcedAt.get(node);
		if (last == null || now - last > this.windowNanos - 2 * this.leaseNanos) {
			synchronized (this.announcedAt) {
				last = this.announcedAt.get(node);
				if (last == null || now - last > this.windowNanos - 2 * this.leaseNanos) {
					bump(node);
					last = this.ticker.getAsLong();
					this.announcedAt.put(node, last);
					this.changedAt.put(node, last);
				}
			}
		}
		long wait = last + this.leaseNanos - this.ticker.getAsLong();
		while (wait > 0) {
			LockSupport.parkNanos(wait);
			wait = last + this.leaseNanos - this.ticker.getAsLong();
		}
	}

	private void bump(MemcachedNode node) {
		String key = this.keys.outage(node.id());
		long highest = -1;
		for (MemcachedNode other : this.nodes.othersUp(node)) {
			Long value = this.store.incr(other, key, 1);
			if (value != null && value < 0) {
				// absent: create it; another server may have created it first, then count on it
				value = this.store.add(other, key, 0, FIRST).isOk() ? Long.valueOf(1L) : this.store.incr(other, key, 1);
			}
			if (value != null) {
				highest = Math.max(highest, value);
			}
		}
		if (highest >= 0) {
			this.known.merge(node, highest, Math::max);
		}
		logger.info("Outage of memcached node " + node + " announced to the other nodes (counter " + highest + ")");
	}

	private void pollQuietly() {
		try {
			readCounters(this.nodes.ring().nodes());
		}
		catch (RuntimeException ex) {
			logger.warn("Reading the outage counters failed", ex);
		}
	}

	/**
	 * Reads the counters of the given nodes, each from up to two other nodes that are up,
	 * all at once and waiting at most a lease: a hung node delays no reading that another
	 * node answers by more than the lease, and marks nothing down (the reading only
	 * observes). Every answer within the lease counts, not just the first: a node that was
	 * down (hung) while an outage was announced holds an older count, and answers as fast
	 * as the others once it is back (before the fix, a logout made while the session's
	 * nodes hung was missed by a server that read the count from such a node).
	 * @return whether every counter was read
	 */
	private boolean readCounters(java.util.List<MemcachedNode> counters) {
		long start = this.ticker.getAsLong();
		long deadline = start + this.leaseNanos;
		Map<MemcachedNode, Answer> pending = new java.util.LinkedHashMap<>();
		for (MemcachedNode node : counters) {
			String key = this.keys.outage(node.id());
			java.util.List<MemcachedNode> from = this.nodes.othersUp(node).stream().limit(READ_FROM).toList();
			Answer answer = new Answer(from.size());
			// every announcement reaches all nodes that are up: two of them are enough
			for (MemcachedNode other : from) {
				if (!this.store.readCounter(other, key, answer::accept)) {
					answer.none();
				}
			}
			pending.put(node, answer);
		}
		boolean all = true;
		for (Map.Entry<MemcachedNode, Answer> entry : pending.entrySet()) {
			Answer answer = entry.getValue();
			Long value = answer.await(Math.max(0, deadline - this.ticker.getAsLong()));
			if (value != null) {
				seen(entry.getKey(), value);
			}
			if (value == null || !answer.isComplete()) {
				// a node that did not answer may be the one that holds the announcement
				all = false;
				continue;
			}
			this.readAt.merge(entry.getKey(), start, Math::max);
		}
		return all;
	}

	/** The highest answer for a counter of those that came within the lease. */
	private static final class Answer {

		private final java.util.concurrent.CountDownLatch all;

		private final java.util.concurrent.atomic.AtomicLong highest = new java.util.concurrent.atomic.AtomicLong();

		private final java.util.concurrent.atomic.AtomicInteger answers = new java.util.concurrent.atomic.AtomicInteger();

		Answer(int expected) {
			this.all = new java.util.concurrent.CountDownLatch(expected);
		}

		void accept(long value) {
			this.highest.accumulateAndGet(Math.max(value, 0), Math::max);
			this.answers.incrementAndGet();
			this.all.countDown();
		}

		/** Whether every node read from answered. */
		boolean isComplete() {
			return this.all.getCount() == 0 && this.answers.get() > 0;
		}

		/** A node that will not answer (the read was not sent). */
		void none() {
			this.all.countDown();
		}

		@Nullable Long await(long nanos) {
			try {
				this.all.await(nanos, TimeUnit.NANOSECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			return (this.answers.get() > 0) ? this.highest.get() : null;
		}

	}

	private void seen(MemcachedNode node, long value) {
		synchronized (this.known) {
			Long before = this.known.get(node);
			if (before == null) {
				// the first reading: what happened before this server started is not news
				this.known.put(node, value);
				return;
			}
			if (value <= before) {
				// equal, or evicted: the highest known stays, so a new announcement counts
				return;
			}
			this.known.put(node, value);
		}
		this.changedAt.put(node, this.ticker.getAsLong());
		logger.info("memcached node " + node + " had an outage another server saw (counter " + value
				+ "): sessions read from it are checked against the other nodes");
		this.outageSeen.accept(node);
	}

	@Override
	public void close() {
		this.poller.shutdownNow();
	}

}
