package io.github.msm.autoconfigure.locking;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.github.msm.test.MemcachedServer;
import io.github.msm.test.MemcachedServers;
import io.micrometer.core.instrument.Timer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code msm.locking-mode=all} over real HTTP: two instances that fail on a lock
 * timeout and one that proceeds, over two real memcached nodes. Locks expire after 2 s
 * and requests wait at most 3 s, so that expiry, extension and timeouts show in seconds.
 */
@Timeout(120)
class LockingAllIT {

	private static final int WRITERS = 50;

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private static final LockingApps apps = new LockingApps();

	private static int app1;

	private static int app2;

	private static int proceeding;

	@BeforeAll
	static void startInstances() {
		List<String> fail = List.of("--msm.locking-mode=all", "--msm.lock-expiration=2s", "--msm.lock-timeout=3s");
		app1 = apps.start(memcached, fail.toArray(String[]::new));
		app2 = apps.start(memcached, fail.toArray(String[]::new));
		proceeding = apps.start(memcached, "--msm.locking-mode=all", "--msm.lock-expiration=2s",
				"--msm.lock-timeout=1s", "--msm.lock-timeout-action=proceed");
	}

	@AfterAll
	static void stopInstances() {
		apps.close();
	}

	@Test
	void counter_FiftyConcurrentIncrementsOverTwoServers_ShouldCountFifty() throws Exception {
		String id = apps.newSession(app1);
		double timeoutsBefore = apps.lockRequests("timeout-failed", app1, app2);
		long waitsBefore = waits(app1) + waits(app2);
		List<Callable<HttpResponse<String>>> increments = new ArrayList<>();
		for (int i = 0; i < WRITERS; i++) {
			int instance = (i % 2 == 0) ? app1 : app2;
			increments.add(() -> apps.post(instance, "/counter", id));
		}

		long started = System.nanoTime();
		List<HttpResponse<String>> responses = apps.runTogether(increments);
		long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

		long acquired = waits(app1) + waits(app2) - waitsBefore;
		double timeouts = apps.lockRequests("timeout-failed", app1, app2) - timeoutsBefore;
		assertThat(responses).allSatisfy((response) -> assertThat(response.statusCode()).isEqualTo(200));
		assertThat(apps.counter(app2, id)).isEqualTo(1 + WRITERS);
		Timer wait1 = apps.lockWait(app1, "acquired");
		Timer wait2 = apps.lockWait(app2, "acquired");
		System.out.printf("[LockingAllIT] %d increments over 2 servers in %d ms; lock waits: %d acquired,"
				+ " max %.0f ms / %.0f ms, mean %.1f ms / %.1f ms; timeouts: %.0f%n", WRITERS, millis,
				acquired, wait1.max(TimeUnit.MILLISECONDS),
				wait2.max(TimeUnit.MILLISECONDS), wait1.mean(TimeUnit.MILLISECONDS), wait2.mean(TimeUnit.MILLISECONDS),
				timeouts);
	}

	@Test
	void asyncCounter_TwentyConcurrentIncrementsOverTwoServers_ShouldCountTwenty() throws Exception {
		String id = apps.newSession(app1);
		List<Callable<HttpResponse<String>>> increments = new ArrayList<>();
		for (int i = 0; i < 20; i++) {
			int instance = (i % 2 == 0) ? app1 : app2;
			increments.add(() -> apps.post(instance, "/async/counter", id));
		}

		List<HttpResponse<String>> responses = apps.runTogether(increments);

		assertThat(responses).allSatisfy((response) -> assertThat(response.statusCode()).isEqualTo(200));
		assertThat(apps.counter(app2, id)).isEqualTo(21);
	}

	@Test
	void request_WhileTheLockIsHeldLongerThanTheTimeout_ShouldAnswer503AndLeaveTheHoldersLock() throws Exception {
		String id = apps.newSession(app1);
		Future<HttpResponse<String>> holder = apps.submit(() -> apps.post(app1, "/counter?sleepMs=4500", id));
		byte[] lock = awaitLock(id);

		HttpResponse<String> refused = apps.post(app2, "/counter", id);

		assertThat(refused.statusCode()).isEqualTo(503);
		assertThat(refused.headers().firstValue("Retry-After")).hasValue("2");
		assertThat(lockOf(id)).as("the holder's lock, extended past its 2 s expiration").isEqualTo(lock);
		assertThat(holder.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
		awaitReleased(id);
		assertThat(apps.counter(app2, id)).as("the refused request changed nothing").isEqualTo(2);
	}

	@Test
	void request_WithProceedWhileTheLockIsHeld_ShouldBeServedAndLeaveTheHoldersLock() throws Exception {
		String id = apps.newSession(app1);
		Future<HttpResponse<String>> holder = apps.submit(() -> apps.post(app1, "/counter?sleepMs=2500", id));
		byte[] lock = awaitLock(id);

		HttpResponse<String> served = apps.get(proceeding, "/counter", id);

		assertThat(served.statusCode()).isEqualTo(200);
		assertThat(apps.lockRequests("timeout-proceeded", proceeding)).isPositive();
		assertThat(lockOf(id)).as("the holder's lock").isEqualTo(lock);
		assertThat(holder.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
	}

	@Test
	void lock_LeftByADeadServer_ShouldBeTakenAfterItsExpiration() throws Exception {
		String id = apps.newSession(app1);
		// what a server that died while holding the lock leaves: a foreign token nobody extends
		lockNode(id).set(lockKey(id), "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII), 2);

		long started = System.nanoTime();
		HttpResponse<String> response = apps.post(app2, "/counter", id);
		long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.body()).endsWith(" 2");
		assertThat(millis).as("waited for the dead lock to expire").isGreaterThanOrEqualTo(900);
		awaitReleased(id);
	}

	@Test
	void invalidate_InALockedRequest_ShouldRemoveSessionValidityBackupAndLockKeys() throws Exception {
		String id = apps.newSession(app1);
		apps.get(app2, "/counter", id);
		Future<HttpResponse<String>> logout = apps.submit(
				() -> apps.send(apps.request(app2, "/session?sleepMs=500", id).DELETE().build()));
		awaitLock(id);

		assertThat(logout.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);

		MemcachedServer primary = node(id);
		MemcachedServer backup = memcached.all().stream().filter((node) -> node != primary).findFirst().orElseThrow();
		await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
			assertThat(describe(primary.get(id))).as("data").isIn("absent", "tombstone");
			assertThat(primary.get("validity:" + id)).as("validity").isNull();
			assertThat(describe(backup.get("bak:" + id))).as("backup").isIn("absent", "tombstone");
			assertThat(backup.get("bak:validity:" + id)).as("backup validity").isNull();
			assertThat(lockOf(id)).as("lock").isNull();
		});
	}

	@Test
	void login_WhileRequestsWithTheOldIdWait_ShouldLetThemIntoNoSessionAndCountEveryNewIdRequest() throws Exception {
		String oldId = apps.newSession(app1);
		Future<HttpResponse<String>> login = apps.submit(() -> apps.post(app1, "/login?sleepMs=500", oldId));
		awaitLock(oldId);
		List<Future<HttpResponse<String>>> oldCookie = new ArrayList<>();
		for (int i = 0; i < 10; i++) {
			int instance = (i % 2 == 0) ? app1 : app2;
			oldCookie.add(apps.submit(() -> apps.post(instance, "/counter", oldId)));
		}

		String newId = login.get(20, TimeUnit.SECONDS).body().split(" ")[0];

		assertThat(newId.substring(0, 32)).as("a login gives a new base, hence a new lock")
			.isNotEqualTo(oldId.substring(0, 32));
		for (Future<HttpResponse<String>> waited : oldCookie) {
			String[] answer = waited.get(20, TimeUnit.SECONDS).body().split(" ");
			assertThat(answer[0]).as("a request with the pre-login id never enters the renamed session")
				.isNotIn(oldId, newId);
			assertThat(answer[1]).isEqualTo("1");
		}
		List<Callable<HttpResponse<String>>> increments = new ArrayList<>();
		for (int i = 0; i < 20; i++) {
			int instance = (i % 2 == 0) ? app1 : app2;
			increments.add(() -> apps.post(instance, "/counter", newId));
		}
		assertThat(apps.runTogether(increments))
			.allSatisfy((response) -> assertThat(response.statusCode()).isEqualTo(200));
		assertThat(apps.counter(app2, newId)).isEqualTo(1 + 20);
	}

	@Test
	void hostileCookie_ShouldNotReachMemcached() throws Exception {
		memcached.resetStats();

		HttpResponse<String> response = apps.get(app1, "/hello", "lock:x%20y");

		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(memcached.stat("cmd_get") + memcached.stat("cmd_set")).isZero();
	}

	private static long waits(int instance) {
		Timer timer = apps.lockWait(instance, "acquired");
		return (timer != null) ? timer.count() : 0;
	}

	private static byte[] awaitLock(String id) {
		await().atMost(Duration.ofSeconds(5)).until(() -> lockOf(id) != null);
		return lockOf(id);
	}

	/** The response can reach the client a moment before the filter's {@code finally} ran. */
	private static void awaitReleased(String id) {
		await().atMost(Duration.ofSeconds(5)).until(() -> lockOf(id) == null);
	}

	private static byte[] lockOf(String id) {
		return lockNode(id).get(lockKey(id));
	}

	/** The lock is the session's, not the id's: keyed by the id's 32-hex base. */
	private static String lockKey(String id) {
		return "lock:" + id.substring(0, 32);
	}

	private static MemcachedServer lockNode(String id) {
		return memcached.node(apps.lockNode(app1, id));
	}

	private static MemcachedServer node(String id) {
		return memcached.node(id.substring(id.lastIndexOf('-') + 1));
	}

	private static String describe(byte[] bytes) {
		if (bytes == null) {
			return "absent";
		}
		return (bytes.length == 2 && bytes[0] == 'T') ? "tombstone" : "live item of " + bytes.length + " bytes";
	}

}
