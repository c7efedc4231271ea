package io.github.msm.session;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A backup lane holds one write per key, keeps no record of a write after it was
 * answered or dropped, keeps the writes of a session in order, and makes a request wait
 * for its own backup write when it runs too far behind. The lanes are held (as a slow or
 * overloaded backup node holds them) to make them run behind.
 */
class BackupLaneIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(3);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@Test
	void writeData_WhenTheLaneIsFull_ShouldBeCountedAndKeepNoRecordOnceDrained() {
		this.repository.setBackupMaxLag(Duration.ofHours(1));
		CountDownLatch release = hold("n2");
		int saves = BackupWriter.LANE_CAPACITY + 300;
		try {
			for (int i = 0; i < saves; i++) {
				MemcachedSession session = sessionOn(this.repository, "n1");
				session.setAttribute("payload", "x".repeat(200));
				this.repository.save(session);
			}
			assertThat(backup().queuedRecords()).isEqualTo(BackupWriter.LANE_CAPACITY);
		}
		finally {
			release.countDown();
		}
		this.repository.awaitBackupWrites();

		assertThat(dropped()).isEqualTo(300);
		assertThat(this.repository.backupQueueDepth()).isZero();
		assertThat(backup().queuedRecords()).isZero();
		assertThat(memcached.node("n2").stat("curr_items")).isEqualTo(BackupWriter.LANE_CAPACITY);
	}

	@Test
	void deleteById_WhenTheBackupLaneIsFull_ShouldStillReplaceTheBackupWithATombstone() throws Exception {
		MemcachedSession session = storedOn("n1");
		this.repository.awaitBackupWrites();
		this.repository.setBackupMaxLag(Duration.ofHours(1));
		BackupWriter backup = backup();
		byte[] filler = SessionCodec.encodeData(dataOfVersion(1));
		java.util.concurrent.ExecutorService executor = java.util.concurrent.Executors.newSingleThreadExecutor();
		java.util.concurrent.Future<?> deleted;
		CountDownLatch release = hold("n2");
		try {
			for (int i = 0; i < BackupWriter.LANE_CAPACITY; i++) {
				backup.writeData("filler" + i, node("n2"), "bak:filler" + i, 1, 0, filler);
			}

			// the logout waits for its tombstone, so it runs beside the held lane
			deleted = executor.submit(() -> this.repository.deleteById(session.getId()));
			await().until(() -> dropped() > 0 || this.repository.backupQueueDepth() > BackupWriter.LANE_CAPACITY);
		}
		finally {
			release.countDown();
		}
		deleted.get();
		executor.shutdown();
		this.repository.awaitBackupWrites();

		assertThat(SessionCodec.isTombstone(memcached.node("n2").get("bak:" + session.getId())))
			.as("the backup of the logged-out session is a tombstone")
			.isTrue();
		assertThat(backup.queuedRecords()).isZero();
	}

	@Test
	void deleteById_WhenTheBackupLaneIsBehind_ShouldReturnOnlyOnceTheBackupHoldsTheTombstone() throws Exception {
		MemcachedSession session = storedOn("n1");
		this.repository.awaitBackupWrites();
		this.repository.setBackupMaxLag(Duration.ofHours(1));
		String backupKey = "bak:" + session.getId();
		java.util.concurrent.ExecutorService executor = java.util.concurrent.Executors.newSingleThreadExecutor();
		java.util.concurrent.Future<byte[]> backupWhenDeleted;
		CountDownLatch release = hold("n2");
		try {
			backupWhenDeleted = executor.submit(() -> {
				this.repository.deleteById(session.getId());
				return memcached.node("n2").get(backupKey);
			});
			await().until(() -> this.repository.backupQueueDepth() >= 1);
		}
		finally {
			release.countDown();
		}

		assertThat(SessionCodec.isTombstone(backupWhenDeleted.get()))
			.as("the backup when the logout returned (a failover would read it)")
			.isTrue();
		executor.shutdown();
	}

	@Test
	void writeData_AfterTheWriterClosed_ShouldBeCountedAndKeepNoRecord() {
		BackupWriter backup = backup();
		backup.close();

		backup.writeData("s", node("n2"), "bak:s", 1, 0, new byte[] { 1 });

		assertThat(dropped()).isEqualTo(1);
		assertThat(backup.queued("s")).isNull();
		assertThat(backup.queuedRecords()).isZero();
	}

	@Test
	void save_OfOneSessionFasterThanItsLane_ShouldQueueOnlyItsNewestVersion() {
		MemcachedSession session = sessionOn(this.repository, "n1");
		this.repository.save(session);
		this.repository.awaitBackupWrites();
		this.repository.setBackupMaxLag(Duration.ofHours(1));
		session = this.repository.findById(session.getId());
		CountDownLatch release = hold("n2");
		try {
			for (int i = 1; i <= 50; i++) {
				MemcachedSession read = this.repository.findById(session.getId());
				read.setAttribute("counter", i);
				this.repository.save(read);
			}
			assertThat(this.repository.backupQueueDepth()).isEqualTo(1);
			memcached.node("n2").resetStats();
		}
		finally {
			release.countDown();
		}
		this.repository.awaitBackupWrites();

		byte[] primary = memcached.node("n1").get(session.getId());
		assertThat(memcached.node("n2").get("bak:" + session.getId())).isEqualTo(primary);
		assertThat(readable(primary).attributes()).containsKey("counter");
		assertThat(memcached.node("n2").stat("cmd_set")).as("backup writes of 50 changes").isLessThanOrEqualTo(2);
	}

	@Test
	void writeTombstone_BetweenQueuedDataWrites_ShouldNotBeOvertakenByEither() {
		BackupWriter backup = backup();
		MemcachedNode n2 = node("n2");
		byte[] older = SessionCodec.encodeData(dataOfVersion(5));
		byte[] newer = SessionCodec.encodeData(dataOfVersion(6));
		CountDownLatch release = hold("n2");
		try {
			backup.writeData("s", n2, "bak:s", 5, 0, older);
			backup.writeTombstone("s", n2, "bak:s", 0, SessionCodec.tombstone());
			backup.writeData("s", n2, "bak:s", 6, 0, newer);
			assertThat(backup.queued("s")).as("no data write is pending after the tombstone").isNull();
		}
		finally {
			release.countDown();
		}
		backup.flush();

		assertThat(SessionCodec.isTombstone(memcached.node("n2").get("bak:s"))).isTrue();
		assertThat(backup.queuedRecords()).isZero();
	}

	@Test
	void save_WhenItsLaneIsBehindMoreThanTheMaxLag_ShouldReturnOnlyOnceItsBackupIsWritten() throws Exception {
		this.repository.setBackupMaxLag(Duration.ofMillis(50));
		CountDownLatch release = hold("n2");
		MemcachedSession first = sessionOn(this.repository, "n1");
		MemcachedSession second = sessionOn(this.repository, "n1");
		Thread saving;
		try {
			this.repository.save(first);
			await().until(() -> this.repository.backupLag().compareTo(Duration.ofMillis(50)) > 0);
			saving = new Thread(() -> this.repository.save(second));
			saving.start();
			await().until(() -> this.repository.backupQueueDepth() == 2);

			assertThat(saving.isAlive()).as("the save waits for its backup write").isTrue();
		}
		finally {
			release.countDown();
		}
		saving.join();

		assertThat(memcached.node("n2").get("bak:" + second.getId())).isNotNull();
	}

	@Test
	void writeData_FromTwoServersTakingTurnsOnTheSameSessions_ShouldLeaveEveryBackupAtItsPrimaryVersion()
			throws Exception {
		MemcachedSessionRepository other = newRepository(java.time.Clock.systemUTC(), kryo(), this.registry);
		java.util.List<String> ids = new java.util.ArrayList<>();
		for (int i = 0; i < 40; i++) {
			MemcachedSession session = sessionOn(this.repository, "n1");
			session.setAttribute("counter", 0);
			this.repository.save(session);
			ids.add(session.getId());
		}
		java.util.List<Thread> writers = new java.util.ArrayList<>();
		java.util.List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
		for (int t = 0; t < 32; t++) {
			MemcachedSessionRepository server = (t % 2 == 0) ? this.repository : other;
			Thread writer = new Thread(() -> {
				try {
					for (int i = 0; i < 150; i++) {
						String id = ids.get(java.util.concurrent.ThreadLocalRandom.current().nextInt(ids.size()));
						MemcachedSession session = server.findById(id);
						session.setAttribute("counter", (Integer) session.getAttribute("counter") + 1);
						server.save(session);
					}
				}
				catch (Throwable ex) {
					errors.add(ex);
				}
			});
			writer.start();
			writers.add(writer);
		}
		for (Thread writer : writers) {
			writer.join();
		}
		this.repository.awaitBackupWrites();
		other.awaitBackupWrites();

		assertThat(errors).isEmpty();
		assertThat(this.registry.counter("msm.session.saves", "outcome", "failed").count()).isZero();
		assertThat(dropped()).isZero();
		for (String id : ids) {
			assertThat(readable(memcached.node("n2").get("bak:" + id)).version()).as("backup version of %s", id)
				.isEqualTo(readable(memcached.node("n1").get(id)).version());
		}
	}

	@Test
	void save_WithSynchronousBackups_ShouldReturnWithTheBackupWrittenAndNothingQueued() {
		this.repository.setBackupAsync(false);
		MemcachedSession session = sessionOn(this.repository, "n1");
		session.setAttribute("k", "v");
		this.repository.save(session);
		MemcachedSession read = this.repository.findById(session.getId());
		read.setAttribute("k", "changed");

		this.repository.save(read);

		assertThat(memcached.node("n2").get("bak:" + session.getId()))
			.isEqualTo(memcached.node("n1").get(session.getId()));
		assertThat(this.repository.backupQueueDepth()).isZero();
		assertThat(backup().queued(session.getId())).isNull();
	}

	private CountDownLatch hold(String nodeId) {
		CountDownLatch release = new CountDownLatch(1);
		backup().holdLane(node(nodeId), release);
		return release;
	}

	private BackupWriter backup() {
		return this.repository.parts().backup;
	}

	private double dropped() {
		return this.registry.counter("msm.backup.write.dropped").count();
	}

	private static MemcachedNode node(String nodeId) {
		return NodeRing.parse(java.util.List.of(memcached.nodesProperty())).node(nodeId);
	}

	private static SessionCodec.Data dataOfVersion(long version) {
		java.time.Instant now = java.time.Instant.now();
		return new SessionCodec.Data((byte) 1, now, Duration.ofMinutes(30), version,
				new SessionCodec.Access(now, Duration.ZERO, Long.MAX_VALUE), java.util.Map.of());
	}

}
