package io.github.msm.session;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import io.github.msm.test.MemcachedServers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A primary node killed under load loses no change acknowledged more than
 * {@code backup-max-lag} before its death, with default settings. Two servers over three
 * nodes: server A increments a counter in 200 sessions on n1 from many threads for a few
 * seconds (each thread owns its sessions, so every increment must survive), then n1 is
 * SIGKILLed and every session's next request goes to server B, which reads the backup
 * and moves the session. A save is acknowledged when it returned and no failure was
 * counted. The throughput of the same load with synchronous backups is measured for
 * comparison and printed, not asserted (the machine's load decides it), and so are the
 * memcached operations per write (from {@code stats}, all nodes; each write is a request
 * that reads its session first).
 */
class BackupFailoverLoadIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(3);

	private static final int SESSIONS = 200;

	private static final Duration WRITING = Duration.ofSeconds(3);

	private static final Duration SYNC_WRITING = Duration.ofSeconds(2);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@ParameterizedTest(name = "{0} writer threads")
	@ValueSource(ints = { 8, 32, 64 })
	void primaryKill_UnderLoad_ShouldLoseNoWriteAcknowledgedMoreThanTheMaxLagBefore(int threads) throws Exception {
		Duration maxLag = MemcachedSessionRepository.DEFAULT_BACKUP_MAX_LAG;
		double syncRate = syncRate(threads);
		MemcachedSessionRepository serverA = this.repository;
		SimpleMeterRegistry registryB = new SimpleMeterRegistry();
		MemcachedSessionRepository serverB = newRepository(Clock.systemUTC(), kryo(), registryB);
		List<String> ids = sessions(serverA);

		memcached.resetStats();
		Load load = Load.run(serverA, ids, threads, WRITING);
		double opsPerWrite = (double) (memcached.stat("cmd_get") + memcached.stat("cmd_set")
				+ memcached.stat("cmd_touch") + memcached.stat("delete_hits") + memcached.stat("delete_misses"))
				/ load.acknowledged();
		int queuedAtKill = serverA.backupQueueDepth();
		Duration lagAtKill = serverA.backupLag();
		long killedAt = System.nanoTime();
		memcached.node("n1").kill();
		long[] recovered = new long[SESSIONS];
		for (int i = 0; i < SESSIONS; i++) {
			MemcachedSession session = serverB.findById(ids.get(i));
			Integer counter = (session != null) ? (Integer) session.getAttribute("counter") : null;
			recovered[i] = (counter != null) ? counter : -1;
		}

		long deadline = killedAt - maxLag.toNanos();
		long lost = 0;
		long inWindow = 0;
		List<String> lostOlderThanMaxLag = new ArrayList<>();
		for (int i = 0; i < SESSIONS; i++) {
			List<Long> acks = load.acks(i);
			lost += Math.max(0, acks.size() - recovered[i]);
			inWindow += acks.stream().filter((at) -> at > deadline).count();
			long mustHave = acks.stream().filter((at) -> at <= deadline).count();
			if (recovered[i] < mustHave) {
				lostOlderThanMaxLag.add(ids.get(i) + ": " + recovered[i] + " of " + mustHave);
			}
		}
		double asyncRate = load.acknowledged() / (WRITING.toNanos() / 1e9);
		System.out.printf(Locale.ROOT,
				"backup-failover threads=%d acknowledged=%d lost=%d inLastMaxLag=%d queuedAtKill=%d lagAtKill=%dms"
						+ " maxLagSeen=%dms maxQueueSeen=%d opsPerWrite=%.2f asyncWritesPerSecond=%.0f"
						+ " syncWritesPerSecond=%.0f%n",
				threads, load.acknowledged(), lost, inWindow, queuedAtKill, lagAtKill.toMillis(),
				load.maxLagSeen().toMillis(), load.maxQueueSeen(), opsPerWrite, asyncRate, syncRate);

		assertThat(failures(this.registry)).as("saves that failed on server A").isZero();
		assertThat(lostOlderThanMaxLag).as("sessions that lost writes acknowledged more than %s before the kill", maxLag)
			.isEmpty();
		assertThat(lost).as("acknowledged writes lost").isLessThanOrEqualTo(inWindow);
	}

	/** Acknowledged writes per second of the same load with synchronous backups. */
	private double syncRate(int threads) throws Exception {
		MemcachedSessionRepository server = newRepository(Clock.systemUTC(), kryo(), new SimpleMeterRegistry());
		server.setBackupAsync(false);
		Load load = Load.run(server, sessions(server), threads, SYNC_WRITING);
		return load.acknowledged() / (SYNC_WRITING.toNanos() / 1e9);
	}

	private static List<String> sessions(MemcachedSessionRepository server) {
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < SESSIONS; i++) {
			MemcachedSession session = sessionOn(server, "n1");
			session.setAttribute("counter", 0);
			session.setAttribute("profile", "x".repeat(1500));
			server.save(session);
			ids.add(session.getId());
		}
		server.awaitBackupWrites();
		return ids;
	}

	private static double failures(SimpleMeterRegistry registry) {
		return registry.counter("msm.session.saves", "outcome", "failed").count();
	}

	/**
	 * Writer threads that each own the sessions {@code i % threads == t} and increment
	 * their counters in turn: read, increment, save, note when the save returned.
	 */
	private static final class Load {

		private final List<List<Long>> acks = new ArrayList<>();

		private volatile Duration maxLagSeen = Duration.ZERO;

		private volatile int maxQueueSeen;

		private Load() {
			for (int i = 0; i < SESSIONS; i++) {
				this.acks.add(new ArrayList<>());
			}
		}

		static Load run(MemcachedSessionRepository server, List<String> ids, int threads, Duration duration)
				throws InterruptedException {
			Load load = new Load();
			long end = System.nanoTime() + duration.toNanos();
			List<Thread> writers = new ArrayList<>();
			List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
			for (int t = 0; t < threads; t++) {
				int first = t;
				Thread writer = new Thread(() -> {
					try {
						while (System.nanoTime() < end) {
							for (int i = first; i < SESSIONS && System.nanoTime() < end; i += threads) {
								load.increment(server, ids.get(i), i);
							}
						}
					}
					catch (Throwable ex) {
						errors.add(ex);
					}
				});
				writer.start();
				writers.add(writer);
			}
			// what the meters would show: the lane's lag and depth, sampled every few ms
			Thread sampler = new Thread(() -> {
				while (System.nanoTime() < end) {
					Duration lag = server.backupLag();
					if (lag.compareTo(load.maxLagSeen) > 0) {
						load.maxLagSeen = lag;
					}
					load.maxQueueSeen = Math.max(load.maxQueueSeen, server.backupQueueDepth());
					java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
				}
			});
			sampler.start();
			for (Thread writer : writers) {
				writer.join(TimeUnit.SECONDS.toMillis(60));
			}
			sampler.join();
			assertThat(errors).isEmpty();
			return load;
		}

		private void increment(MemcachedSessionRepository server, String id, int index) {
			MemcachedSession session = server.findById(id);
			assertThat(session).as("session %s", id).isNotNull();
			int counter = (Integer) session.getAttribute("counter");
			List<Long> acks = this.acks.get(index);
			assertThat(counter).as("counter of %s as read back", id).isEqualTo(acks.size());
			session.setAttribute("counter", counter + 1);
			server.save(session);
			acks.add(System.nanoTime());
		}

		List<Long> acks(int index) {
			return this.acks.get(index);
		}

		Duration maxLagSeen() {
			return this.maxLagSeen;
		}

		int maxQueueSeen() {
			return this.maxQueueSeen;
		}

		long acknowledged() {
			return this.acks.stream().mapToLong(List::size).sum();
		}

	}

}
