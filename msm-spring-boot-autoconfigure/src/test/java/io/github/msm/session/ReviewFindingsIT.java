package io.github.msm.session;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import io.github.msm.session.node.NodeRing;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServers;
import io.github.msm.test.MutableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.awaitility.Awaitility.await;

/**
 * Adversarial review of 313a389 (the consistent write path). Every test here failed
 * against that commit; each one names the guarantee it breaks.
 */
class ReviewFindingsIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(3);

	private final SimpleMeterRegistry otherRegistry = new SimpleMeterRegistry();

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	// 6. A session never expires earlier than max-inactive after the real last access

	/**
	 * A request within the write window (covered, so its access is not written) shortens
	 * the interval: the stored slack is cut to the new window, so the stored expiry no
	 * longer covers that request's access.
	 */
	@Test
	void intervalShortened_ByARequestInsideTheWriteWindow_ShouldNotExpireBeforeTheIntervalAfterThatRequest() {
		MutableClock clock = new MutableClock(Duration.ZERO);
		MemcachedSessionRepository server = newRepository(clock, kryo(), this.otherRegistry);
		MemcachedSession session = server.createSession(); // 30 min, window 3m45s
		server.save(session);

		clock.advance(Duration.ofMinutes(3));
		MemcachedSession request = server.findById(session.getId());
		request.setLastAccessedTime(clock.instant()); // last real access
		request.setMaxInactiveInterval(Duration.ofMinutes(8));
		server.save(request);
		server.save(request);

		// 7 minutes after the last access, with an 8-minute interval
		clock.advance(Duration.ofMinutes(7));
		assertThat(server.findById(session.getId())).as("session 7 min after last access, interval 8 min").isNotNull();
	}

	/**
	 * Two read-only requests that both need to write their access: the one that started
	 * first but finishes last overwrites the validity item with its older access (an
	 * unconditional set).
	 */
	@Test
	void readOnlyAccess_WrittenLastButStartedFirst_ShouldNotMoveTheExpiryBack() {
		MutableClock clock = new MutableClock(Duration.ZERO);
		MemcachedSessionRepository server = newRepository(clock, kryo(), this.otherRegistry);
		MemcachedSession session = server.createSession(); // 30 min, window 3m45s
		server.save(session);

		clock.advance(Duration.ofMinutes(4));
		MemcachedSession slow = server.findById(session.getId());
		slow.setLastAccessedTime(clock.instant());
		clock.advance(Duration.ofMinutes(4));
		MemcachedSession quick = server.findById(session.getId());
		quick.setLastAccessedTime(clock.instant()); // the last real access: T+8m
		server.save(quick);
		server.save(quick);
		server.save(slow); // the slow request ends
		server.save(slow);

		assertThat(server.findById(session.getId()).getLastAccessedTime()).as("stored last access")
			.isEqualTo(quick.getLastAccessedTime().truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
		clock.advance(Duration.ofMinutes(29).plusSeconds(50));
		assertThat(server.findById(session.getId())).as("session 29m50s after its last access, interval 30 min")
			.isNotNull();
	}

	/**
	 * A modifying request whose own access is covered writes the data item (new version)
	 * with the access it read at its start; a read-only request that wrote its access
	 * (validity item of the old version) in between is lost.
	 */
	@Test
	void dataWrite_AfterAConcurrentReadOnlyAccessWasWritten_ShouldKeepThatAccess() {
		MutableClock clock = new MutableClock(Duration.ZERO);
		MemcachedSessionRepository server = newRepository(clock, kryo(), this.otherRegistry);
		MemcachedSession session = server.createSession(); // 30 min, window 3m45s
		server.save(session);

		clock.advance(Duration.ofMinutes(3));
		MemcachedSession writer = server.findById(session.getId());
		writer.setLastAccessedTime(clock.instant()); // covered by the stored access
		clock.advance(Duration.ofMinutes(1));
		MemcachedSession reader = server.findById(session.getId());
		reader.setLastAccessedTime(clock.instant()); // the last real access: T+4m, written
		server.save(reader);
		server.save(reader);
		writer.setAttribute("k", "v");
		server.save(writer);
		server.save(writer);

		// the writer's own access (T+3m) is stored, with a window of slack that covers the
		// reader's access (T+4m): the session lives at least 30 min after T+4m
		clock.advance(Duration.ofMinutes(29).plusSeconds(50));
		assertThat(server.findById(session.getId())).as("session 29m50s after its last access, interval 30 min")
			.isNotNull();
	}

	// 2./3. No change is lost silently; renames merge

	/**
	 * An AJAX request read the session before a login renamed it, and saves after the
	 * rename: its CAS hits the tombstone, the re-read finds "absent" and the change is
	 * dropped at DEBUG, neither merged into the new id nor counted or logged at WARN.
	 */
	@Test
	void changeSessionId_WriteThatReadBeforeTheRenameAndSavesAfterIt_ShouldNotBeSilentlyLost() {
		MemcachedSessionRepository other = newRepository(Clock.systemUTC(), kryo(), this.otherRegistry);
		MemcachedSession session = sessionOn(this.repository, "n1");
		session.setAttribute("user", "anonymous");
		this.repository.save(session);
		MemcachedSession login = this.repository.findById(session.getId());
		MemcachedSession ajax = other.findById(session.getId());
		login.changeSessionId();
		login.setAttribute("user", "alice");
		this.repository.save(login);
		ajax.setAttribute("cart", "3 items");
		other.save(ajax);

		MemcachedSession renamed = this.repository.findById(login.getId());
		boolean merged = "3 items".equals(renamed.getAttribute("cart"));
		double reported = discarded(this.registry) + discarded(this.otherRegistry);
		assertThat(merged || reported > 0)
			.as("cart merged into the renamed session (%s) or the lost change counted (%s failures)", merged, reported)
			.isTrue();
	}

	/** Same, with both requests on one server: SaveLocks hands over {@code null} after a rename. */
	@Test
	void changeSessionId_ConcurrentWriteOnTheSameServer_ShouldNotBeSilentlyLost() {
		MemcachedSession session = sessionOn(this.repository, "n1");
		session.setAttribute("user", "anonymous");
		this.repository.save(session);
		MemcachedSession login = this.repository.findById(session.getId());
		MemcachedSession ajax = this.repository.findById(session.getId());
		login.changeSessionId();
		this.repository.save(login);
		ajax.setAttribute("cart", "3 items");
		this.repository.save(ajax);

		MemcachedSession renamed = this.repository.findById(login.getId());
		boolean merged = "3 items".equals(renamed.getAttribute("cart"));
		assertThat(merged || discarded(this.registry) > 0).as("cart merged or its loss counted").isTrue();
	}

	/**
	 * The later request explicitly sets an attribute back to the value it read and writes
	 * (another change): the merge applies its value over the other server's. (Setting an
	 * attribute to the value read with no other change is not a change, and writes nothing.)
	 */
	@Test
	void setAttribute_ToTheValueThisRequestRead_AfterAnotherServerChangedIt_ShouldWin() {
		MemcachedSessionRepository other = newRepository(Clock.systemUTC(), kryo(), this.otherRegistry);
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("cart", "empty");
		this.repository.save(session);
		MemcachedSession first = this.repository.findById(session.getId());
		MemcachedSession second = other.findById(session.getId());
		second.setAttribute("cart", "3 items");
		other.save(second);
		first.setAttribute("cart", "empty"); // "clear the cart", saved last
		first.setAttribute("clearedAt", "now");
		this.repository.save(first);

		assertThat((String) this.repository.findById(session.getId()).getAttribute("cart")).isEqualTo("empty");
	}

	/** Same for the interval: setting it to the value read is not recorded as a change. */
	@Test
	void setMaxInactiveInterval_ToTheValueThisRequestRead_AfterAnotherServerChangedIt_ShouldWin() {
		MemcachedSessionRepository other = newRepository(Clock.systemUTC(), kryo(), this.otherRegistry);
		MemcachedSession session = this.repository.createSession();
		this.repository.save(session);
		MemcachedSession first = this.repository.findById(session.getId());
		MemcachedSession second = other.findById(session.getId());
		second.setMaxInactiveInterval(Duration.ofMinutes(5));
		other.save(second);
		first.setMaxInactiveInterval(Duration.ofMinutes(30)); // saved last
		first.setAttribute("k", "v");
		this.repository.save(first);

		assertThat(this.repository.findById(session.getId()).getMaxInactiveInterval())
			.isEqualTo(Duration.ofMinutes(30));
	}

	/**
	 * A re-read that fails (node timeout) reads as "absent", and the writer then treats
	 * the session as deleted: the change is dropped at DEBUG, not counted or logged at
	 * WARN. With the text protocol every save after a write re-reads first (no CAS token
	 * from set), so a slow node after the first save is enough; with binary the same
	 * happens when a re-read after a conflict times out.
	 */
	@Test
	void save_WhenTheReReadBeforeTheWriteTimesOut_ShouldCountTheLostChange() {
		NodeRing ring = NodeRing.parse(List.of(memcached.nodesProperty()));
		MemcachedSessionRepository text = new MemcachedSessionRepository(
				new MemcachedStore(ring.nodes(), false, Duration.ofMillis(500)), ring, kryo());
		text.setMetrics(new SessionMetrics(this.otherRegistry));
		try {
			MemcachedSession session = sessionOn(text, "n1");
			text.save(session);
			memcached.node("n1").hang();
			session.setAttribute("user", "alice");
			text.save(session);

			// the node is known down after the failed re-read: the change moves with the session
			MemcachedSession found = text.findById(session.getId());
			boolean stored = found != null && "alice".equals(found.getAttribute("user"));
			assertThat(stored || failures(this.otherRegistry) > 0).as("change of 'user' stored elsewhere or counted")
				.isTrue();
		}
		finally {
			text.shutdown();
		}
	}

	// 2. Second save / failed first save

	/**
	 * The first save of a new session is refused (oversize); Spring Session's second save
	 * then finds the session "new" (no base) with no changed attributes and stores it
	 * empty: a session appears without the attribute the application set.
	 */
	@Test
	void secondSave_AfterTheFirstSaveOfANewSessionWasRefused_ShouldNotStoreAnEmptySession() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("huge", new byte[2 * 1024 * 1024]);
		this.repository.save(session);
		this.repository.save(session);

		MemcachedSession found = this.repository.findById(session.getId());
		assertThat(found).as("a session stored without the attribute its request set").isNull();
	}

	/**
	 * The codec stores the interval in whole seconds: a sub-second interval is read back
	 * as zero, i.e. "never expires", and read-only traffic then makes the items permanent.
	 */
	@Test
	void save_SubSecondInterval_ShouldNotBecomeNeverExpiring() {
		MemcachedSession session = this.repository.createSession();
		session.setMaxInactiveInterval(Duration.ofMillis(500));
		this.repository.save(session);

		MemcachedSession found = this.repository.findById(session.getId());
		assertThat(found == null || !SessionLifetime.neverExpires(found.getMaxInactiveInterval()))
			.as("a 500 ms session read back with interval %s", (found != null) ? found.getMaxInactiveInterval() : null)
			.isTrue();
	}

	// 7./5. Hostile or corrupt input never fails a request or loses a session

	/**
	 * The encoder writes any attribute name; the decoder refuses names over 4096 bytes, so
	 * the whole session reads as corrupt and is deleted.
	 */
	@Test
	void setAttribute_NameLongerThan4096Bytes_ShouldNotDestroyTheWholeSession() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("user", "alice");
		session.setAttribute("filter:" + "x".repeat(5000), "v");
		this.repository.save(session);

		MemcachedSession found = this.repository.findById(session.getId());
		assertThat(found).as("session with one long attribute name").isNotNull();
		assertThat((String) found.getAttribute("user")).isEqualTo("alice");
	}

	/** An interval that decodes but overflows Instant arithmetic throws out of findById. */
	@Test
	void findById_StoredIntervalThatOverflows_ShouldNotThrow() {
		String id = "0123456789abcdef0123456789abcdef-n1";
		Instant now = Instant.now();
		SessionCodec.Data data = new SessionCodec.Data(kryo().id(), now, Duration.ofMinutes(30), 1,
				new SessionCodec.Access(now, Duration.ZERO, Long.MAX_VALUE), Map.of());
		byte[] bytes = SessionCodec.encodeData(data);
		// the interval field (after magic, format, serializer and creation time): Long.MAX_VALUE
		java.nio.ByteBuffer.wrap(bytes, 11, 8).putLong(Long.MAX_VALUE);
		memcached.node("n1").set(id, bytes, 0);

		assertThatCode(() -> this.repository.findById(id)).doesNotThrowAnyException();
	}

	// deleteById of a renamed session

	/**
	 * A request changes the id (not saved yet) and then invalidates: Spring Session deletes
	 * by the session's current (new) id, and the stored session under the old id stays
	 * readable although this request's memo knows it.
	 */
	@Test
	void deleteById_AfterAnUnsavedChangeSessionIdInTheSameRequest_ShouldRemoveTheStoredSession() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("user", "alice");
		this.repository.save(session);
		String oldId = session.getId();
		RequestSessionMemo.open();
		try {
			MemcachedSession read = this.repository.findById(oldId);
			read.changeSessionId();
			this.repository.deleteById(read.getId()); // HttpSession.invalidate()
		}
		finally {
			RequestSessionMemo.close();
		}

		assertThat(this.repository.findById(oldId)).as("the invalidated session under its stored id").isNull();
	}

	// BackupWriter lanes

	/**
	 * Lanes are chosen by session id, not by backup node: a hung backup node (n2, backup of
	 * n1) holds both lanes for ~2 s per write, so backups of sessions whose backup node is
	 * healthy (n3 -> n1) wait behind them (and are dropped once 10,000 are queued).
	 */
	@Test
	void backupWrite_ToAHealthyNode_ShouldNotWaitBehindWritesToAHungNode() {
		memcached.node("n2").hang();
		for (int i = 0; i < 6; i++) {
			MemcachedSession stuck = sessionOn(this.repository, "n1");
			stuck.setAttribute("k", "v");
			this.repository.save(stuck);
		}
		MemcachedSession healthy = sessionOn(this.repository, "n3");
		healthy.setAttribute("k", "v");
		this.repository.save(healthy);

		await().atMost(Duration.ofMillis(1500))
			.untilAsserted(() -> assertThat(memcached.node("n1").get("bak:" + healthy.getId())).isNotNull());
	}

	/**
	 * With synchronous backups the backup write runs while the session's save lock is
	 * held: a hung backup node makes concurrent saves of one session on a healthy primary
	 * time out waiting for the lock, and their changes are lost.
	 */
	@Test
	void syncBackup_ToAHungNode_ShouldNotMakeConcurrentSavesOnAHealthyPrimaryFail() throws Exception {
		this.repository.setBackupAsync(false);
		MemcachedSession session = sessionOn(this.repository, "n1");
		this.repository.save(session);
		String id = session.getId();
		memcached.node("n2").hang();
		CountDownLatch start = new CountDownLatch(1);
		List<Thread> threads = new ArrayList<>();
		for (int i = 0; i < 3; i++) {
			String name = "a" + i;
			MemcachedSession read = this.repository.findById(id);
			Thread thread = new Thread(() -> {
				try {
					start.await();
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
				read.setAttribute(name, name);
				this.repository.save(read);
			});
			thread.start();
			threads.add(thread);
		}
		start.countDown();
		for (Thread thread : threads) {
			thread.join();
		}

		assertThat(readable(memcached.node("n1").get(id)).attributes()).containsKeys("a0", "a1", "a2");
		assertThat(failures(this.registry)).isZero();
	}

	private static double failures(SimpleMeterRegistry registry) {
		return registry.counter("msm.session.saves", "outcome", "failed").count();
	}

}
