package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Where session items live (msm's layout) and how long memcached keeps them.
 */
class SessionBackupIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(3);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@Test
	void save_ShouldPutDataOnPrimaryAndBackupOnNextNode() {
		MemcachedSession session = sessionOn("n3");
		session.setAttribute("k", "v");
		this.repository.save(session);
		String id = session.getId();

		assertThat(memcached.node("n3").get(id)).isNotNull();
		await().untilAsserted(() -> assertThat(memcached.node("n1").get("bak:" + id))
			.isEqualTo(memcached.node("n3").get(id)));
		assertThat(memcached.node("n2").get("bak:" + id)).isNull();
		assertThat(memcached.node("n1").get(id)).isNull();
	}

	@Test
	void readOnlyAccess_WhenWritten_ShouldWriteValidityOnPrimaryAndBackup() {
		this.repository.setAccessWriteFraction(0);
		MemcachedSession session = sessionOn("n1");
		this.repository.save(session);
		String id = session.getId();
		MemcachedSession read = this.repository.findById(id);
		read.setLastAccessedTime(Instant.now().plusMillis(500));
		this.repository.save(read);

		await().untilAsserted(() -> assertThat(memcached.node("n1").get("validity:" + id)).hasSize(38));
		await().untilAsserted(() -> assertThat(memcached.node("n2").get("bak:validity:" + id))
			.isEqualTo(memcached.node("n1").get("validity:" + id)));
	}

	@Test
	void readOnlyAccessLongerThanInterval_ShouldKeepDataAndBackupAlive() {
		MemcachedSession session = sessionOn("n1");
		session.setMaxInactiveInterval(Duration.ofSeconds(2));
		session.setAttribute("k", "v");
		this.repository.save(session);
		String id = session.getId();
		await().until(() -> memcached.node("n2").expiresInSeconds("bak:" + id) != null);
		long dataExpiresAt = expiresAt("n1", id);
		long backupExpiresAt = expiresAt("n2", "bak:" + id);

		// read-only requests every 500 ms until memcached's expirations clearly moved on
		// (memcached reports whole seconds, so demand more than rounding can explain)
		AtomicInteger requests = new AtomicInteger();
		await().pollInterval(Duration.ofMillis(500)).atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
			MemcachedSession read = this.repository.findById(id);
			assertThat(read).isNotNull();
			read.setLastAccessedTime(Instant.now());
			this.repository.save(read);
			requests.incrementAndGet();
			assertThat(expiresAt("n1", id)).isGreaterThan(dataExpiresAt + 3);
			assertThat(expiresAt("n2", "bak:" + id)).isGreaterThan(backupExpiresAt + 3);
		});
		// the data item is renewed (a compare-and-set of the bytes read) about once per
		// interval, not once per request
		// (access writes are an add, then compare-and-sets of the validity item)
		long accessWrites = (long) this.registry.counter("msm.session.access.writes").count();
		long renewals = memcached.node("n1").stat("cas_hits") - (accessWrites - 1);
		assertThat(renewals).isBetween(1L, requests.get() / 3L);
		assertThat((String) this.repository.findById(id).getAttribute("k")).isEqualTo("v");
	}

	@Test
	void save_ZeroInterval_ShouldStoreItemsThatNeverExpire() {
		MemcachedSession session = sessionOn("n1");
		session.setMaxInactiveInterval(Duration.ZERO);
		this.repository.save(session);
		String id = session.getId();

		assertThat(memcached.node("n1").expiresInSeconds(id)).isEqualTo(-1);
		await().untilAsserted(() -> assertThat(memcached.node("n2").expiresInSeconds("bak:" + id)).isEqualTo(-1));
	}

	@Test
	void save_IntervalOverThirtyDays_ShouldBeSentAsAbsoluteTime() {
		MemcachedSession session = sessionOn("n1");
		session.setMaxInactiveInterval(Duration.ofDays(40));
		this.repository.save(session);
		String id = session.getId();

		// sent as relative seconds, memcached would read 80 days as a date in 1970: gone at once
		assertThat(this.repository.findById(id)).isNotNull();
		assertThat(memcached.node("n1").expiresInSeconds(id)).isGreaterThan(Duration.ofDays(79).toSeconds());
	}

	@Test
	void save_ThirtyMinuteInterval_ShouldLetDataOutliveTheSession() {
		MemcachedSession session = sessionOn("n1");
		this.repository.save(session);

		// the session's expiry (30 min + a write window of 3 min 45 s), one more interval and a minute
		assertThat(memcached.node("n1").expiresInSeconds(session.getId())).isGreaterThan(3600 + 225)
			.isLessThanOrEqualTo(3600 + 225 + 60);
	}

	@Test
	void changeSessionId_ShouldRemoveOldBackup() {
		MemcachedSession session = sessionOn("n1");
		this.repository.save(session);
		String oldId = session.getId();
		await().until(() -> memcached.node("n2").get("bak:" + oldId) != null);
		MemcachedSession read = this.repository.findById(oldId);
		read.changeSessionId();
		this.repository.save(read);

		this.repository.awaitBackupWrites();

		assertThat(memcached.node("n2").get("bak:" + oldId)).matches(SessionCodec::isTombstone);
		assertThat(readable(memcached.node("n2").get("bak:" + read.getId()))).isNotNull();
		assertThat(memcached.node("n1").get(oldId)).matches(SessionCodec::isTombstone);
		await().untilAsserted(() -> assertThat(memcached.node("n1").get("validity:" + oldId)).isNull());
	}

	@Test
	void deleteById_ShouldRemoveBackupToo() {
		MemcachedSession session = sessionOn("n2");
		this.repository.save(session);
		String id = session.getId();
		await().until(() -> memcached.node("n3").get("bak:" + id) != null);
		this.repository.deleteById(id);

		this.repository.awaitBackupWrites();

		assertThat(memcached.node("n3").get("bak:" + id)).matches(SessionCodec::isTombstone);
		assertThat(memcached.node("n2").get(id)).matches(SessionCodec::isTombstone);
	}

	@Test
	void save_WithSyncBackup_ShouldHaveBackupWhenSaveReturns() {
		this.repository.setBackupAsync(false);
		MemcachedSession session = sessionOn("n2");
		this.repository.save(session);

		assertThat(memcached.node("n3").get("bak:" + session.getId())).isNotNull();
	}

	@Test
	void save_WithKeyPrefix_ShouldPrefixEveryKey() {
		this.repository.setKeyPrefix("shop:");
		MemcachedSession session = sessionOn("n1");
		this.repository.save(session);

		assertThat(memcached.node("n1").get("shop:" + session.getId())).isNotNull();
		await().untilAsserted(() -> assertThat(memcached.node("n2").get("bak:shop:" + session.getId())).isNotNull());
		assertThat(this.repository.findById(session.getId())).isNotNull();
	}

	private static long expiresAt(String nodeId, String key) {
		return Instant.now().getEpochSecond() + memcached.node(nodeId).expiresInSeconds(key);
	}

	private MemcachedSession sessionOn(String nodeId) {
		return sessionOn(this.repository, nodeId);
	}

}
