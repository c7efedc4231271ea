package io.github.msm.session.storage;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeAvailability;
import net.spy.memcached.MemcachedClient;
import net.spy.memcached.MemcachedConnection;
import net.spy.memcached.OperationFactory;
import net.spy.memcached.ops.Operation;
import net.spy.memcached.ops.OperationCallback;
import net.spy.memcached.ops.OperationStatus;
import net.spy.memcached.ops.StatsOperation;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * Finds out when memcached nodes come back, and whether they came back empty.
 *
 * <p>
 * One daemon thread per store asks each down node for its {@code stats} every second,
 * and each up node every four seconds; a change of a node's connection (reported by
 * spymemcached) has the node asked at once. A node that answers is marked up; one that is
 * not connected or does not answer within the probe timeout is marked down. This is the
 * only memcached traffic that requests do not cause: one {@code stats} per node and
 * interval.
 *
 * <p>
 * spymemcached does not watch an idle connection, so a node that dies or restarts
 * between requests is noticed by the next request or up-node probe, whichever comes
 * first; spymemcached reconnects a second later and the probe then asks at once. A
 * restart without any request is thus seen within about five seconds.
 *
 * <p>
 * A node that restarted has lost its items. The probe remembers each node's {@code pid}
 * and the time its process started ({@code time - uptime}, constant for a process); a
 * different pid, a different start or a smaller uptime means the node restarted, which
 * is reported with {@link NodeAvailability#answered(MemcachedNode, boolean)}. The first
 * round runs before the store is handed out, so every node that is up has been asked
 * before anything was written to it; a node first reached later holds nothing of ours
 * and its first answer is not a restart.
 *
 * <p>
 * A proxy such as twemproxy closes the connection on {@code stats}, so proxies are asked
 * for their {@code version} instead: that tells whether the proxy answers, not whether a
 * server behind it restarted, which is the proxy's business. With SASL credentials the
 * probe's requests go over the client's authenticated connection; a node that refuses
 * the credentials closes it, and its down reason says that the credentials are the
 * likely cause (never what they are).
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class NodeProbe {

	static final Duration DOWN_INTERVAL = Duration.ofSeconds(1);

	static final Duration UP_INTERVAL = Duration.ofSeconds(4);

	private static final Log logger = LogFactory.getLog(NodeProbe.class);

	private final Map<MemcachedNode, NodeConnection> connections;

	private final NodeAvailability availability;

	private final OperationFactory operations;

	private final long timeoutNanos;

	private final ConnectionSettings settings;

	private final Map<MemcachedNode, Target> targets = new LinkedHashMap<>();

	private final Set<MemcachedNode> woken = ConcurrentHashMap.newKeySet();

	private final Thread thread;

	private volatile boolean running = true;

	/**
	 * @param connections the nodes' clients (filled by the caller before {@link #start})
	 * @param availability where to report
	 * @param operations builds the {@code stats} operations
	 * @param timeout how long a node may take to answer
	 * @param settings whether the nodes are proxies and whether connections authenticate
	 */
	NodeProbe(Map<MemcachedNode, NodeConnection> connections, NodeAvailability availability,
			OperationFactory operations, Duration timeout, ConnectionSettings settings) {
		this.settings = settings;
		this.connections = connections;
		this.availability = availability;
		this.operations = operations;
		this.timeoutNanos = timeout.toNanos();
		this.thread = new Thread(this::run, "msm-node-probe");
		this.thread.setDaemon(true);
		availability.addListener(new NodeAvailability.Listener() {

			@Override
			public void down(MemcachedNode node, String reason) {
				LockSupport.unpark(NodeProbe.this.thread);
			}

			@Override
			public void up(MemcachedNode node, boolean restarted) {
			}

		});
	}

	/**
	 * Asks every node once, on the calling thread, to learn their processes (a node that
	 * does not answer is marked down), then starts the probe thread.
	 */
	void start() {
		for (MemcachedNode node : this.connections.keySet()) {
			this.targets.put(node, new Target());
		}
		probeDueNodes();
		this.thread.start();
	}

	/**
	 * Has the node asked now. Safe on any thread, spymemcached's IO thread included: it
	 * only records the node and wakes the probe.
	 */
	void wakeUp(MemcachedNode node) {
		this.woken.add(node);
		LockSupport.unpark(this.thread);
	}

	void stop() {
		this.running = false;
		this.thread.interrupt();
		try {
			this.thread.join(TimeUnit.NANOSECONDS.toMillis(this.timeoutNanos) + 1000);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private void run() {
		while (this.running) {
			long wait;
			try {
				probeDueNodes();
				long now = System.nanoTime();
				wait = this.targets.keySet().stream().mapToLong((node) -> due(node) - now).min().orElse(0);
			}
			catch (RuntimeException ex) {
				logger.warn("memcached node probe failed; trying again in " + DOWN_INTERVAL.toSeconds() + " s", ex);
				wait = DOWN_INTERVAL.toNanos();
			}
			if (this.woken.isEmpty() && wait > 0) {
				LockSupport.parkNanos(this, wait);
			}
			Thread.interrupted();
		}
	}

	/**
	 * When the node is to be asked next: a second after its last probe while it is down,
	 * four while it is up. A node that just failed an operation may thus be due at once.
	 */
	private long due(MemcachedNode node) {
		Duration interval = this.availability.isAvailable(node) ? UP_INTERVAL : DOWN_INTERVAL;
		return this.targets.get(node).probed + interval.toNanos();
	}

	private void probeDueNodes() {
		long now = System.nanoTime();
		List<MemcachedNode> due = new ArrayList<>();
		for (MemcachedNode node : this.targets.keySet()) {
			if (this.woken.remove(node) || now - due(node) >= 0) {
				due.add(node);
			}
		}
		Map<MemcachedNode, Stats> asked = new LinkedHashMap<>();
		for (MemcachedNode node : due) {
			Stats stats = ask(node);
			if (stats != null) {
				asked.put(node, stats);
			}
		}
		long deadline = System.nanoTime() + this.timeoutNanos;
		asked.forEach((node, stats) -> {
			String failure = stats.await(deadline);
			if (!this.running) {
				return;
			}
			if (failure == null) {
				answered(node, stats);
			}
			else {
				this.availability.failed(node, withLikelyCause(node, failure));
			}
		});
		for (MemcachedNode node : due) {
			this.targets.get(node).probed = System.nanoTime();
		}
	}

	/**
	 * A node with SASL that closes the connection (spymemcached is then reconnecting, or
	 * the probe's request was cancelled), or keeps it busy authenticating past the
	 * timeout, has most likely refused the credentials: memcached answers a wrong
	 * password with "Auth failure" and spymemcached reconnects, cancelling what was queued.
	 * Without SASL, a node with no connection (or whose connection dropped, cancelling the
	 * request) is connected to once to name the cause, such as a refused connection.
	 */
	private String withLikelyCause(MemcachedNode node, String failure) {
		if (!this.settings.isAuthenticated()) {
			return (failure.startsWith("not connected") || failure.contains("cancelled"))
					? failure + ": " + ConnectCause.of(node, Duration.ofNanos(this.timeoutNanos)) : failure;
		}
		return failure + "; SASL authentication as '" + this.settings.getUsername()
				+ "' failed or did not finish: check msm.username and msm.password";
	}

	/**
	 * Sends {@code stats} (to a proxy: {@code version}) to the node; {@code null} when
	 * there is no connection to send it on.
	 */
	private @Nullable Stats ask(MemcachedNode node) {
		NodeConnection connection = this.connections.get(node);
		if (!connection.open()) {
			this.availability.failed(node, "host " + node.host() + " does not resolve");
			return null;
		}
		MemcachedClient client = connection.client();
		if (client == null || !connection.isConnected()) {
			this.availability.failed(node, withLikelyCause(node, "not connected"));
			return null;
		}
		Stats stats = new Stats(this.timeoutNanos, this.settings.isProxy());
		try {
			client.broadcastOp((spyNode, latch) -> stats.operation(this.operations, latch));
			return stats;
		}
		catch (RuntimeException ex) {
			this.availability.failed(node, "stats not sent: " + ex);
			return null;
		}
	}

	private void answered(MemcachedNode node, Stats stats) {
		if (this.settings.isProxy()) {
			if (!this.availability.isAvailable(node)) {
				this.availability.answered(node, false);
			}
			return;
		}
		Target target = this.targets.get(node);
		Long pid = stats.number("pid");
		Long uptime = stats.number("uptime");
		Long time = stats.number("time");
		if (pid == null || uptime == null || time == null) {
			logger.debug("memcached node " + node + " answered stats without pid, uptime or time");
			this.availability.answered(node, false);
			return;
		}
		boolean restarted = target.pid != null
				&& (!pid.equals(target.pid) || time - uptime != target.started || uptime < target.uptime);
		target.pid = pid;
		target.started = time - uptime;
		target.uptime = uptime;
		if (restarted || !this.availability.isAvailable(node)) {
			this.availability.answered(node, restarted);
		}
	}

	/** What the probe knows of one node; touched by the probe thread only. */
	private static final class Target {

		/** When the node was last asked; "long ago" at first, so that it is due at once. */
		long probed = System.nanoTime() - UP_INTERVAL.toNanos();

		@Nullable Long pid;

		long started;

		long uptime;

	}

	/**
	 * One {@code stats} request. Its callbacks run on spymemcached's IO thread and only
	 * collect the answer. Also used for the reports of {@link NodeReports}.
	 */
	static final class Stats {

		private final Map<String, String> values = new ConcurrentHashMap<>();

		private final long timeoutNanos;

		private final boolean versionOnly;

		private volatile @Nullable String failure = "no status";

		private volatile long answeredAt;

		private @Nullable CountDownLatch latch;

		private @Nullable Operation operation;

		Stats(long timeoutNanos, boolean versionOnly) {
			this.timeoutNanos = timeoutNanos;
			this.versionOnly = versionOnly;
		}

		Operation operation(OperationFactory operations, CountDownLatch latch) {
			this.latch = latch;
			if (this.versionOnly) {
				this.operation = operations.version(new OperationCallback() {

					@Override
					public void receivedStatus(OperationStatus status) {
						Stats.this.failure = status.isSuccess() ? null : status.getMessage();
					}

					@Override
					public void complete() {
						latch.countDown();
					}

				});
				return this.operation;
			}
			this.operation = operations.stats(null, new StatsOperation.Callback() {

				@Override
				public void gotStat(String name, String value) {
					Stats.this.values.put(name, value);
				}

				@Override
				public void receivedStatus(OperationStatus status) {
					Stats.this.failure = status.isSuccess() ? null : status.getMessage();
				}

				@Override
				public void complete() {
					Stats.this.answeredAt = System.nanoTime();
					latch.countDown();
				}

			});
			return this.operation;
		}

		/**
		 * Waits for the answer. A timeout counts against the connection like any timed-out
		 * operation, so that spymemcached drops and reopens the connection of a hung node.
		 * @param deadline a {@link System#nanoTime()} value
		 * @return {@code null} when the node answered, else why it did not
		 */
		@Nullable String await(long deadline) {
			CountDownLatch latch = this.latch;
			Operation operation = this.operation;
			if (latch == null || operation == null) {
				return "stats not sent";
			}
			try {
				long timeout = deadline - System.nanoTime();
				if (!latch.await(Math.max(0, timeout), TimeUnit.NANOSECONDS)) {
					MemcachedConnection.opTimedOut(operation);
					operation.timeOut();
					return "no answer to " + command() + " within " + TimeUnit.NANOSECONDS.toMillis(this.timeoutNanos)
							+ " ms";
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return "interrupted";
			}
			return (this.failure != null) ? command() + " failed: " + this.failure : null;
		}

		private String command() {
			return this.versionOnly ? "version" : "stats";
		}

		/** When the answer was complete, a {@link System#nanoTime()} value. */
		long answeredAt() {
			return this.answeredAt;
		}

		Map<String, String> values() {
			return this.values;
		}

		@Nullable Long number(String name) {
			String value = this.values.get(name);
			if (value == null) {
				return null;
			}
			try {
				return Long.parseLong(value);
			}
			catch (NumberFormatException ex) {
				return null;
			}
		}

	}

}
