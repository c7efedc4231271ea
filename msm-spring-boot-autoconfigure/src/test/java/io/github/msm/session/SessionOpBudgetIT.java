package io.github.msm.session;

import java.time.Instant;

import io.github.msm.test.MemcachedServer;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Memcached operations per request, counted by the servers themselves ({@code stats}).
 * Each test plays one request as Spring Session's filter does: {@code findById},
 * {@code setLastAccessedTime(now)}, the application's work, then {@code save} twice
 * (once when the response commits, once at the end of the filter).
 */
class SessionOpBudgetIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@Test
	void newSession_ShouldCostOneSetOnPrimaryAndOneOnBackup() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("k", "v");
		this.repository.save(session);
		this.repository.save(session);

		assertOps(primaryOf(session), 0, 1, 0);
		awaitOps(backupOf(session), 0, 1, 0);
	}

	@Test
	void readOnlyRequest_ShouldCostOneRoundTripAndOneSmallWrite() {
		MemcachedSession session = stored();
		memcached.resetStats();

		MemcachedSession read = request(session.getId());
		read.getAttribute("k");
		this.repository.save(read);
		this.repository.save(read);

		// one pipelined read of data + validity (2 gets, 1 round trip), one 26-byte validity set,
		// not the 5 KB session
		assertOps(primaryOf(session), 2, 1, 0);
		awaitOps(backupOf(session), 0, 1, 0);
		assertThat(primaryOf(session).stat("bytes_read")).as("bytes sent to the primary").isLessThan(1000);
	}

	@Test
	void requestThatNeverReadsAnAttribute_ShouldCostTheSameAsReadOnly() {
		MemcachedSession session = stored();
		memcached.resetStats();

		MemcachedSession read = request(session.getId());
		this.repository.save(read);
		this.repository.save(read);

		assertOps(primaryOf(session), 2, 1, 0);
		awaitOps(backupOf(session), 0, 1, 0);
	}

	@Test
	void modifyingRequest_ShouldCostOneRoundTripAndOneWrite() {
		MemcachedSession session = stored();
		memcached.resetStats();

		MemcachedSession read = request(session.getId());
		read.setAttribute("k", "changed");
		this.repository.save(read);
		this.repository.save(read);

		assertOps(primaryOf(session), 2, 1, 0);
		awaitOps(backupOf(session), 0, 1, 0);
	}

	@Test
	void requestSettingAnAttributeToItsStoredValue_ShouldNotRewriteTheSession() {
		MemcachedSession session = stored();
		memcached.resetStats();

		MemcachedSession read = request(session.getId());
		read.setAttribute("k", "v");
		this.repository.save(read);

		assertOps(primaryOf(session), 2, 1, 0);
		assertThat(primaryOf(session).stat("bytes_read")).as("bytes sent to the primary").isLessThan(1000);
	}

	@Test
	void unknownSessionId_ShouldCostOneRoundTripAndNoWrite() {
		assertThat(this.repository.findById("0123456789abcdef0123456789abcdef-n1")).isNull();

		assertOps(memcached.node("n1"), 2, 0, 0);
		assertOps(memcached.node("n2"), 0, 0, 0);
	}

	private MemcachedSession stored() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("k", "v");
		session.setAttribute("big", "x".repeat(5000));
		this.repository.save(session);
		await().until(() -> backupOf(session).stat("curr_items") == 1);
		return session;
	}

	private MemcachedSession request(String id) {
		MemcachedSession session = this.repository.findById(id);
		assertThat(session).isNotNull();
		session.setLastAccessedTime(Instant.now().plusMillis(5));
		return session;
	}

	private MemcachedServer primaryOf(MemcachedSession session) {
		return memcached.node(this.repository.nodeIdOf(session.getId()));
	}

	private MemcachedServer backupOf(MemcachedSession session) {
		return memcached.node(this.repository.nodeIdOf(session.getId()).equals("n1") ? "n2" : "n1");
	}

	private static void assertOps(MemcachedServer server, long gets, long sets, long touches) {
		assertThat(server.stat("cmd_get")).as("cmd_get on %s", server.nodeId()).isEqualTo(gets);
		assertThat(server.stat("cmd_set")).as("cmd_set on %s", server.nodeId()).isEqualTo(sets);
		assertThat(server.stat("cmd_touch")).as("cmd_touch on %s", server.nodeId()).isEqualTo(touches);
		assertThat(server.stat("delete_hits") + server.stat("delete_misses")).as("deletes on %s", server.nodeId())
			.isZero();
	}

	private static void awaitOps(MemcachedServer server, long gets, long sets, long touches) {
		await().untilAsserted(() -> assertOps(server, gets, sets, touches));
	}

}
