package io.github.msm.session;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import io.github.msm.session.serializer.ClassAllowList;
import io.github.msm.session.serializer.KryoSessionSerializer;
import io.github.msm.test.MemcachedServers;
import io.github.msm.test.MutableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * No change is ever lost, and nothing comes back: concurrent writers on two servers,
 * interval and access races, clocks that disagree, renames and deletes racing writes.
 * "Servers" are repositories with their own connections (and clocks) over the same real
 * memcached nodes; primary and backup are both checked after every race.
 */
class SessionConsistencyIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private final SimpleMeterRegistry otherRegistry = new SimpleMeterRegistry();

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	// Writes never give up while time remains

	@Test
	void save_FiftyConcurrentWritersOnTwoServers_ShouldKeepEveryAttributeOnPrimaryAndBackup() throws Exception {
		MemcachedSessionRepository other = newRepository(Clock.systemUTC(), kryo(), this.otherRegistry);
		MemcachedSession session = sessionOn(this.repository, "n1");
		this.repository.save(session);
		String id = session.getId();
		CountDownLatch start = new CountDownLatch(1);
		List<Thread> writers = new ArrayList<>();
		for (int i = 0; i < 50; i++) {
			MemcachedSessionRepository server = (i % 2 == 0) ? this.repository : other;
			String name = "a" + i;
			writers.add(started(() -> {
				awaitStart(start);
				MemcachedSession read = server.findById(id);
				read.setLastAccessedTime(Instant.now());
				read.setAttribute(name, name);
				server.save(read);
				server.save(read);
			}));
		}
		start.countDown();
		for (Thread writer : writers) {
			writer.join();
		}
		this.repository.awaitBackupWrites();
		other.awaitBackupWrites();

		SessionCodec.Data primary = readable(memcached.node("n1").get(id));
		SessionCodec.Data backup = readable(memcached.node("n2").get("bak:" + id));
		assertThat(primary.attributes()).hasSize(50);
		assertThat(backup.attributes()).hasSize(50);
		assertThat(backup.version()).isEqualTo(primary.version());
		assertThat(failures(this.registry) + failures(this.otherRegistry)).isZero();
		System.out.printf("50 writers on 2 servers: %.0f writes, %.0f conflicts (each merged and retried), "
				+ "%.0f failures, final version %d%n", writes(this.registry) + writes(this.otherRegistry),
				conflicts(this.registry) + conflicts(this.otherRegistry), failures(this.registry)
						+ failures(this.otherRegistry), primary.version());
	}

	// One time model

	@Test
	void readOnlyTraffic_AfterIntervalWasShortened_ShouldRenewTheDataItem() {
		assertReadOnlyTrafficRenewsDataItem(Duration.ofHours(1));
	}

	@Test
	void readOnlyTraffic_AfterNeverExpiringSessionGotATimeout_ShouldRenewTheDataItem() {
		assertReadOnlyTrafficRenewsDataItem(Duration.ZERO);
	}

	private void assertReadOnlyTrafficRenewsDataItem(Duration initialInterval) {
		MemcachedSession session = sessionOn(this.repository, "n1");
		session.setMaxInactiveInterval(initialInterval);
		session.setAttribute("k", "v");
		this.repository.save(session);
		String id = session.getId();
		MemcachedSession shorten = this.repository.findById(id);
		shorten.setMaxInactiveInterval(Duration.ofSeconds(2));
		this.repository.save(shorten);
		long expiresAfterChange = expiresAt(id);

		// read-only requests every 500 ms, each of them well inside the 2 s interval
		await().pollInterval(Duration.ofMillis(500)).atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
			MemcachedSession read = this.repository.findById(id);
			assertThat(read).as("session in use").isNotNull();
			read.setLastAccessedTime(Instant.now());
			this.repository.save(read);
			assertThat(expiresAt(id)).isGreaterThan(expiresAfterChange + 2);
		});
		assertThat((String) this.repository.findById(id).getAttribute("k")).isEqualTo("v");
	}

	@Test
	void save_IntervalLengthened_ShouldLetTheItemsLiveForTheNewInterval() {
		MemcachedSession session = sessionOn(this.repository, "n1");
		session.setMaxInactiveInterval(Duration.ofSeconds(5));
		this.repository.save(session);
		MemcachedSession read = this.repository.findById(session.getId());
		read.setMaxInactiveInterval(Duration.ofDays(7));
		this.repository.save(read);
		this.repository.awaitBackupWrites();

		assertThat(memcached.node("n1").expiresInSeconds(session.getId())).isGreaterThan(Duration.ofDays(14).toSeconds());
		assertThat(memcached.node("n2").expiresInSeconds("bak:" + session.getId()))
			.isGreaterThan(Duration.ofDays(14).toSeconds());
	}

	@Test
	void save_IntervalMadeNeverExpiring_ShouldMakeTheItemsNeverExpire() {
		MemcachedSession session = sessionOn(this.repository, "n1");
		this.repository.save(session);
		MemcachedSession read = this.repository.findById(session.getId());
		read.setMaxInactiveInterval(Duration.ofSeconds(-1));
		this.repository.save(read);
		this.repository.awaitBackupWrites();

		assertThat(memcached.node("n1").expiresInSeconds(session.getId())).isEqualTo(-1);
		assertThat(memcached.node("n2").expiresInSeconds("bak:" + session.getId())).isEqualTo(-1);
	}

	@Test
	void readOnlyAccess_RacingALongerInterval_ShouldNotRevertIt() {
		assertReadOnlyAccessKeepsConcurrentInterval(Duration.ofDays(7));
	}

	@Test
	void readOnlyAccess_RacingAShorterInterval_ShouldNotRevertIt() {
		assertReadOnlyAccessKeepsConcurrentInterval(Duration.ofMinutes(5));
	}

	private void assertReadOnlyAccessKeepsConcurrentInterval(Duration interval) {
		this.repository.setAccessWriteFraction(0);
		MemcachedSessionRepository other = newRepository(Clock.systemUTC(), kryo(), this.otherRegistry);
		MemcachedSession session = this.repository.createSession();
		this.repository.save(session);
		MemcachedSession reader = this.repository.findById(session.getId());
		MemcachedSession changer = other.findById(session.getId());
		changer.setMaxInactiveInterval(interval);
		other.save(changer);
		reader.setLastAccessedTime(Instant.now().plusMillis(100));
		this.repository.save(reader);

		assertThat(this.repository.findById(session.getId()).getMaxInactiveInterval()).isEqualTo(interval);
		assertThat(other.findById(session.getId()).getMaxInactiveInterval()).isEqualTo(interval);
	}

	@Test
	void save_LaterIntervalChangeOnServerWithClockBehind_ShouldWin() {
		MemcachedSessionRepository ahead = newRepository(new MutableClock(Duration.ofSeconds(60)), kryo(),
				this.otherRegistry);
		MemcachedSessionRepository behind = newRepository(new MutableClock(Duration.ofSeconds(-60)), kryo(),
				new SimpleMeterRegistry());
		MemcachedSession session = ahead.createSession();
		this.repository.save(session);
		MemcachedSession first = ahead.findById(session.getId());
		first.setMaxInactiveInterval(Duration.ofMinutes(10));
		ahead.save(first);
		MemcachedSession second = behind.findById(session.getId());
		second.setMaxInactiveInterval(Duration.ofMinutes(20));
		behind.save(second);

		assertThat(ahead.findById(session.getId()).getMaxInactiveInterval()).isEqualTo(Duration.ofMinutes(20));
		assertThat(this.repository.findById(session.getId()).getMaxInactiveInterval()).isEqualTo(Duration.ofMinutes(20));
	}

	@Test
	void readOnlyAccess_OnServerWithClockBehind_ShouldNotMoveTheExpiryBack() {
		MutableClock aheadClock = new MutableClock(Duration.ofSeconds(60));
		MemcachedSessionRepository ahead = newRepository(aheadClock, kryo(), new SimpleMeterRegistry());
		SimpleMeterRegistry behindRegistry = new SimpleMeterRegistry();
		MutableClock behindClock = new MutableClock(Duration.ofSeconds(-60));
		MemcachedSessionRepository behind = newRepository(behindClock, kryo(), behindRegistry);
		MemcachedSession session = ahead.createSession();
		ahead.save(session);
		Instant accessedAhead = session.getLastAccessedTime();

		MemcachedSession read = behind.findById(session.getId());
		read.setLastAccessedTime(behindClock.instant());
		behind.save(read);
		behind.awaitBackupWrites();

		assertThat(behindRegistry.counter("msm.session.access.writes").count()).isZero();
		assertThat(this.repository.findById(session.getId()).getLastAccessedTime())
			.isEqualTo(accessedAhead.truncatedTo(ChronoUnit.MILLIS));
	}

	@Test
	void setLastAccessedTime_InThePast_ShouldBeStoredAsGiven() {
		MemcachedSession session = this.repository.createSession();
		this.repository.save(session);
		Instant tenMinutesAgo = Instant.now().minus(Duration.ofMinutes(10)).truncatedTo(ChronoUnit.MILLIS);
		MemcachedSession read = this.repository.findById(session.getId());
		read.setLastAccessedTime(tenMinutesAgo);
		this.repository.save(read);

		assertThat(this.repository.findById(session.getId()).getLastAccessedTime()).isEqualTo(tenMinutesAgo);
	}

	@Test
	void setLastAccessedTime_InThePastWithAChange_ShouldBeStoredAsGiven() {
		MemcachedSession session = this.repository.createSession();
		this.repository.save(session);
		Instant tenMinutesAgo = Instant.now().minus(Duration.ofMinutes(10)).truncatedTo(ChronoUnit.MILLIS);
		MemcachedSession read = this.repository.findById(session.getId());
		read.setLastAccessedTime(tenMinutesAgo);
		read.setAttribute("k", "v");
		this.repository.save(read);
		MemcachedSession modified = this.repository.findById(session.getId());
		modified.setAttribute("k", "w");
		this.repository.save(modified);

		MemcachedSession found = this.repository.findById(session.getId());
		assertThat(found.getLastAccessedTime()).isEqualTo(tenMinutesAgo);
		assertThat((String) found.getAttribute("k")).isEqualTo("w");
	}

	@Test
	void setLastAccessedTime_BeyondTheInterval_ShouldExpireTheSessionReadOnlyOrModified() {
		MemcachedSession readOnly = this.repository.createSession();
		MemcachedSession modified = this.repository.createSession();
		this.repository.save(readOnly);
		this.repository.save(modified);
		Instant expired = Instant.now().minus(Duration.ofMinutes(31));
		MemcachedSession first = this.repository.findById(readOnly.getId());
		first.setLastAccessedTime(expired);
		this.repository.save(first);
		MemcachedSession second = this.repository.findById(modified.getId());
		second.setLastAccessedTime(expired);
		second.setAttribute("k", "v");
		this.repository.save(second);

		assertThat(this.repository.findById(readOnly.getId())).isNull();
		assertThat(this.repository.findById(modified.getId())).isNull();
	}

	// Renames merge

	@Test
	void changeSessionId_RacingAWriteOnAnotherServer_ShouldCarryTheWriteIntoTheNewId() {
		MemcachedSessionRepository other = newRepository(Clock.systemUTC(), kryo(), this.otherRegistry);
		MemcachedSession session = sessionOn(this.repository, "n1");
		session.setAttribute("user", "anonymous");
		this.repository.save(session);
		MemcachedSession login = this.repository.findById(session.getId());
		MemcachedSession ajax = other.findById(session.getId());
		ajax.setAttribute("cart", "3 items");
		other.save(ajax);
		login.changeSessionId();
		login.setAttribute("user", "alice");
		this.repository.save(login);
		this.repository.awaitBackupWrites();

		MemcachedSession renamed = other.findById(login.getId());
		assertThat((String) renamed.getAttribute("cart")).isEqualTo("3 items");
		assertThat((String) renamed.getAttribute("user")).isEqualTo("alice");
		assertThat(other.findById(session.getId())).isNull();
		assertThat(readable(memcached.node("n2").get("bak:" + login.getId())).attributes()).containsKeys("cart", "user");
		assertThat(readable(memcached.node("n2").get("bak:" + session.getId()))).isNull();
	}

	@Test
	void changeSessionId_AfterDeleteOnAnotherServer_ShouldNotStoreTheNewId() {
		MemcachedSessionRepository other = newRepository(Clock.systemUTC(), kryo(), this.otherRegistry);
		MemcachedSession session = sessionOn(this.repository, "n1");
		this.repository.save(session);
		MemcachedSession login = this.repository.findById(session.getId());
		other.deleteById(session.getId());
		login.changeSessionId();
		this.repository.save(login);
		this.repository.awaitBackupWrites();
		other.awaitBackupWrites();

		assertThat(this.repository.findById(login.getId())).isNull();
		assertThat(readable(memcached.node("n1").get(login.getId()))).isNull();
		assertThat(readable(memcached.node("n2").get("bak:" + login.getId()))).isNull();
	}

	// Backups cannot resurrect

	@Test
	void deleteById_RacingWritesOnAnotherServer_ShouldLeaveNoReadableCopyOnEitherNode() throws Exception {
		MemcachedSessionRepository other = newRepository(Clock.systemUTC(), kryo(), this.otherRegistry);
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < 300; i++) {
			MemcachedSession session = this.repository.createSession();
			session.setAttribute("k", "v");
			this.repository.save(session);
			ids.add(session.getId());
		}
		this.repository.awaitBackupWrites();
		for (int batch = 0; batch < ids.size(); batch += 20) {
			List<MemcachedSession> reads = new ArrayList<>();
			for (String id : ids.subList(batch, batch + 20)) {
				reads.add(this.repository.findById(id));
			}
			CountDownLatch start = new CountDownLatch(1);
			List<Thread> threads = new ArrayList<>();
			for (MemcachedSession read : reads) {
				threads.add(started(() -> {
					awaitStart(start);
					read.setAttribute("k", "written");
					this.repository.save(read);
				}));
				threads.add(started(() -> {
					awaitStart(start);
					other.deleteById(read.getId());
				}));
			}
			start.countDown();
			for (Thread thread : threads) {
				thread.join();
			}
		}
		this.repository.awaitBackupWrites();
		other.awaitBackupWrites();

		for (String id : ids) {
			String primary = this.repository.nodeIdOf(id);
			String backup = primary.equals("n1") ? "n2" : "n1";
			assertThat(readable(memcached.node(primary).get(id))).as("primary copy of %s", id).isNull();
			assertThat(readable(memcached.node(backup).get("bak:" + id))).as("backup copy of %s", id).isNull();
		}
		assertThat(this.repository.findById(ids.get(0))).isNull();
	}

	// Unreadable is not removed

	@Test
	void save_OnServerThatCannotReadAnAttribute_ShouldKeepItForServersThatCan() {
		KryoSessionSerializer narrow = new KryoSessionSerializer(ClassAllowList.of(List.of("java.util")),
				getClass().getClassLoader());
		MemcachedSessionRepository oldServer = newRepository(Clock.systemUTC(), narrow, this.otherRegistry);
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("cart", new Cart(3));
		session.setAttribute("visits", 1);
		this.repository.save(session);

		MemcachedSession read = oldServer.findById(session.getId());
		assertThat((Object) read.getAttribute("cart")).isNull();
		assertThat(read.getAttributeNames()).containsExactly("visits");
		read.setAttribute("visits", 2);
		oldServer.save(read);

		MemcachedSession found = this.repository.findById(session.getId());
		assertThat((Cart) found.getAttribute("cart")).isEqualTo(new Cart(3));
		assertThat((Integer) found.getAttribute("visits")).isEqualTo(2);
		assertThat(this.otherRegistry.counter("msm.attribute.unreadable").count()).isEqualTo(1);
	}

	/** A class that only the "new" server's allow-list admits. */
	record Cart(int items) {
	}

	private static long expiresAt(String id) {
		return Instant.now().getEpochSecond() + memcached.node("n1").expiresInSeconds(id);
	}

	private static double writes(SimpleMeterRegistry registry) {
		return registry.counter("msm.session.saves", "outcome", "written").count();
	}

	private static double conflicts(SimpleMeterRegistry registry) {
		return registry.counter("msm.session.saves", "outcome", "conflict-retried").count();
	}

	private static double failures(SimpleMeterRegistry registry) {
		return registry.counter("msm.session.saves", "outcome", "failed").count();
	}

	private static Thread started(Runnable runnable) {
		Thread thread = new Thread(runnable);
		thread.start();
		return thread;
	}

	private static void awaitStart(CountDownLatch latch) {
		try {
			latch.await();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
