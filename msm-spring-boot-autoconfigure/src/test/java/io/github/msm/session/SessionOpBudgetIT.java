package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;

import io.github.msm.test.MemcachedServer;
import io.github.msm.test.MemcachedServers;
import io.github.msm.test.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Memcached operations per request, counted by the servers themselves ({@code stats})
 * on every node, backups included. Each test plays one request as Spring Session's
 * filter does: {@code findById}, {@code setLastAccessedTime(now)}, the application's
 * work, then {@code save} twice (once when the response commits, once at the end of
 * the filter).
 */
class SessionOpBudgetIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private final MutableClock clock = new MutableClock(Duration.ZERO);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@Test
	void newSession_ShouldCostOneSetOnPrimaryAndAVersionCheckedSetOnBackup() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("k", "v");
		this.repository.save(session);
		this.repository.save(session);

		assertOps(primaryOf(session), 0, 1);
		awaitOps(backupOf(session), 1, 1);
	}

	@Test
	void readOnlyRequest_ShouldCostOnePipelinedRoundTripAndNothingElse() {
		MemcachedSession session = stored();
		memcached.resetStats();

		MemcachedSession read = request(session.getId());
		read.getAttribute("k");
		this.repository.save(read);
		this.repository.save(read);
		this.repository.awaitBackupWrites();

		// data + validity in one round trip; the access is covered by the stored expiry
		assertOps(primaryOf(session), 2, 0);
		assertOps(backupOf(session), 0, 0);
	}

	@Test
	void readOnlyRequests_InSteadyState_ShouldCostAtMostTwoOpsEachOverAllNodes() {
		MemcachedSession session = stored();
		memcached.resetStats();

		for (int i = 0; i < 100; i++) {
			MemcachedSession read = request(session.getId());
			read.getAttribute("k");
			this.repository.save(read);
			this.repository.save(read);
		}
		this.repository.awaitBackupWrites();

		assertThat(totalOps()).as("ops of 100 read-only requests, all nodes").isLessThanOrEqualTo(200);
	}

	@Test
	void readOnlyRequest_AfterTheWriteWindow_ShouldQueueOneSmallWriteOnPrimaryAndBackup() {
		this.repository.setClock(this.clock);
		MemcachedSession session = stored();
		memcached.resetStats();
		// 1/8 of the 30-minute interval has passed since the stored access
		this.clock.advance(Duration.ofMinutes(4));

		MemcachedSession read = request(session.getId());
		this.repository.save(read);
		this.repository.save(read);
		this.repository.awaitBackupWrites();

		await().untilAsserted(() -> assertOps(primaryOf(session), 2, 1));
		await().untilAsserted(() -> assertOps(backupOf(session), 0, 1));
		assertThat(primaryOf(session).stat("bytes_read")).as("bytes sent to the primary").isLessThan(1000);
		assertThat(this.registry.counter("msm.session.access.writes").count()).isEqualTo(1);
	}

	@Test
	void modifyingRequest_ShouldCostOneRoundTripAndOneCasAndAQueuedBackupCas() {
		MemcachedSession session = stored();
		memcached.resetStats();

		MemcachedSession read = request(session.getId());
		read.setAttribute("k", "changed");
		this.repository.save(read);
		this.repository.save(read);

		assertOps(primaryOf(session), 2, 1);
		assertThat(primaryOf(session).stat("cas_hits")).isEqualTo(1);
		// the backup write is a compare-and-set with the token of this server's last
		// backup write of the session: no read of the version it replaces
		awaitOps(backupOf(session), 0, 1);
		assertThat(backupOf(session).stat("cas_hits")).isEqualTo(1);
	}

	@Test
	void modifyingRequests_InSteadyState_ShouldCostAtMostFourOpsEachOverAllNodes() {
		MemcachedSession session = stored();
		memcached.resetStats();

		for (int i = 0; i < 100; i++) {
			MemcachedSession read = request(session.getId());
			read.setAttribute("k", "changed " + i);
			this.repository.save(read);
			this.repository.save(read);
		}
		this.repository.awaitBackupWrites();

		assertThat(totalOps()).as("ops of 100 modifying requests, all nodes, backups included")
			.isLessThanOrEqualTo(400);
	}

	@Test
	void modifyingRequest_AfterAnotherServerChangedTheSession_ShouldReadTheBackupVersionAndCompareAndSet() {
		MemcachedSession session = stored();
		MemcachedSessionRepository other = newRepository(java.time.Clock.systemUTC(), kryo(), this.registry);
		MemcachedSession there = other.findById(session.getId());
		there.setAttribute("k", "changed there");
		other.save(there);
		other.awaitBackupWrites();
		memcached.resetStats();

		MemcachedSession read = request(session.getId());
		read.setAttribute("k", "changed here");
		this.repository.save(read);
		this.repository.awaitBackupWrites();

		// the remembered token is of a version before the other server's: the backup's
		// version is read (get), then compare-and-set (cas); no cas with a stale token
		assertOps(backupOf(session), 1, 1);
		assertThat(readable(backupOf(session).get("bak:" + session.getId())).version())
			.isEqualTo(readable(primaryOf(session).get(session.getId())).version());
	}

	@Test
	void requestSettingAnAttributeToItsStoredValue_ShouldNotRewriteTheSession() {
		MemcachedSession session = stored();
		memcached.resetStats();

		MemcachedSession read = request(session.getId());
		read.setAttribute("k", "v");
		this.repository.save(read);
		this.repository.awaitBackupWrites();

		assertOps(primaryOf(session), 2, 0);
		assertOps(backupOf(session), 0, 0);
	}

	@Test
	void unknownSessionId_ShouldCostOneRoundTripAndNoWrite() {
		assertThat(this.repository.findById("0123456789abcdef0123456789abcdef-n1")).isNull();

		assertOps(memcached.node("n1"), 2, 0);
		assertOps(memcached.node("n2"), 0, 0);
	}

	private MemcachedSession stored() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("k", "v");
		session.setAttribute("big", "x".repeat(5000));
		this.repository.save(session);
		this.repository.awaitBackupWrites();
		await().until(() -> backupOf(session).stat("curr_items") == 1);
		return session;
	}

	private MemcachedSession request(String id) {
		MemcachedSession session = this.repository.findById(id);
		assertThat(session).isNotNull();
		session.setLastAccessedTime(this.clock.instant());
		return session;
	}

	private MemcachedServer primaryOf(MemcachedSession session) {
		return memcached.node(this.repository.nodeIdOf(session.getId()));
	}

	private MemcachedServer backupOf(MemcachedSession session) {
		return memcached.node(this.repository.nodeIdOf(session.getId()).equals("n1") ? "n2" : "n1");
	}

	private static long totalOps() {
		return memcached.stat("cmd_get") + memcached.stat("cmd_set") + memcached.stat("cmd_touch")
				+ memcached.stat("delete_hits") + memcached.stat("delete_misses");
	}

	/** Gets and storage commands (set, add and cas all count as {@code cmd_set}). */
	private static void assertOps(MemcachedServer server, long gets, long sets) {
		assertThat(server.stat("cmd_get")).as("cmd_get on %s", server.nodeId()).isEqualTo(gets);
		assertThat(server.stat("cmd_set")).as("cmd_set on %s", server.nodeId()).isEqualTo(sets);
		assertThat(server.stat("cmd_touch")).as("cmd_touch on %s", server.nodeId()).isZero();
		assertThat(server.stat("delete_hits") + server.stat("delete_misses")).as("deletes on %s", server.nodeId())
			.isZero();
	}

	private static void awaitOps(MemcachedServer server, long gets, long sets) {
		await().untilAsserted(() -> assertOps(server, gets, sets));
	}

}
