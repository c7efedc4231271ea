package io.github.msm.autoconfigure.locking;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Locks by session, not by id, during a node failover, over real HTTP and two real
 * memcached nodes: the session and its lock both live on n1, which is killed; the
 * session moves to n2 ({@code <base>-n1} → {@code <base>-n2}) and so does its lock
 * ({@code lock:<base>}, first node up from the base's home). Requests with the old
 * cookie and requests with the new one, on both servers (one of which has not seen n1
 * die yet), must run one after the other. Before, the old id's lock on the dead node
 * was skipped and the new id had a lock of its own: increments were lost.
 */
@Timeout(180)
class LockingFailoverIT {

	private static final int REQUESTS = 40;

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private static final LockingApps apps = new LockingApps();

	private static int app1;

	private static int app2;

	@BeforeAll
	static void startInstances() {
		app1 = apps.start(memcached, "--msm.locking-mode=all");
		app2 = apps.start(memcached, "--msm.locking-mode=all");
	}

	@AfterAll
	static void stopInstances() {
		apps.close();
	}

	@Test
	void counter_OldAndNewCookieOnTwoServersAfterThePrimaryWasKilled_ShouldLoseNoIncrement() throws Exception {
		String oldId = sessionWithItsLockOn("n1");
		assertThat(apps.post(app2, "/counter", oldId).body()).endsWith(" 2");
		apps.awaitBackupWrites();
		memcached.node("n1").kill();

		HttpResponse<String> moved = apps.post(app1, "/counter", oldId);
		String newId = moved.body().split(" ")[0];
		assertThat(moved.body()).endsWith(" 3");
		assertThat(newId).isEqualTo(oldId.substring(0, 32) + "-n2");
		List<Callable<HttpResponse<String>>> increments = new ArrayList<>();
		for (int i = 0; i < REQUESTS; i++) {
			String cookie = (i % 4 < 2) ? oldId : newId;
			int instance = (i % 2 == 0) ? app1 : app2;
			increments.add(() -> apps.post(instance, "/counter", cookie));
		}

		long started = System.nanoTime();
		List<HttpResponse<String>> responses = apps.runTogether(increments);
		long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

		assertThat(responses).allSatisfy((response) -> {
			assertThat(response.statusCode()).isEqualTo(200);
			assertThat(response.body()).startsWith(newId + " ");
		});
		assertThat(apps.counter(app1, newId)).isEqualTo(3 + REQUESTS);
		assertThat(apps.counter(app2, newId)).isEqualTo(3 + REQUESTS);
		await().atMost(Duration.ofSeconds(5))
			.untilAsserted(() -> assertThat(memcached.node("n2").get("lock:" + oldId.substring(0, 32)))
				.as("lock released on n2")
				.isNull());
		System.out.printf("[LockingFailoverIT] %d increments (half old cookie, half new) over 2 servers after"
				+ " SIGKILL of n1 in %d ms; lock timeouts: %.0f, unlocked (no node): %.0f%n", REQUESTS, millis,
				apps.lockRequests("timeout-failed", app1, app2), apps.lockRequests("skipped-unavailable", app1, app2));
	}

	@Test
	void counter_OldCookieOnTwoServersRightAfterThePrimaryWasKilled_ShouldMoveOnceAndLoseNoIncrement()
			throws Exception {
		String oldId = sessionWithItsLockOn("n1");
		apps.awaitBackupWrites();
		memcached.node("n1").kill();
		List<Callable<HttpResponse<String>>> increments = new ArrayList<>();
		for (int i = 0; i < REQUESTS; i++) {
			int instance = (i % 2 == 0) ? app1 : app2;
			increments.add(() -> apps.post(instance, "/counter", oldId));
		}

		List<HttpResponse<String>> responses = apps.runTogether(increments);

		String newId = oldId.substring(0, 32) + "-n2";
		assertThat(responses).allSatisfy((response) -> {
			assertThat(response.statusCode()).isEqualTo(200);
			assertThat(response.body()).startsWith(newId + " ");
		});
		assertThat(apps.counter(app2, newId)).isEqualTo(1 + REQUESTS);
	}

	@Test
	void counter_RequestHoldingTheLockOnTheNextNodeWhileTheHomeComesBack_ShouldLoseNoIncrement() throws Exception {
		String id = sessionWithItsLockOn("n1", "n2");
		String base = id.substring(0, 32);
		apps.awaitBackupWrites();
		memcached.node("n1").kill();
		await().atMost(Duration.ofSeconds(30))
			.until(() -> apps.lockNode(app1, id).equals("n2") && apps.lockNode(app2, id).equals("n2"));
		Future<HttpResponse<String>> slow = apps.submit(() -> apps.post(app1, "/counter?sleepMs=3000", id));
		await().atMost(Duration.ofSeconds(10)).until(() -> memcached.node("n2").get("lock:" + base) != null);
		memcached.node("n1").restart();
		await().atMost(Duration.ofSeconds(30))
			.until(() -> apps.lockNode(app1, id).equals("n1") && apps.lockNode(app2, id).equals("n1"));
		assertThat(slow.isDone()).as("the slow request still holds its lock on n2").isFalse();
		List<Callable<HttpResponse<String>>> increments = new ArrayList<>();
		for (int i = 0; i < REQUESTS / 2; i++) {
			int instance = (i % 2 == 0) ? app1 : app2;
			increments.add(() -> apps.post(instance, "/counter", id));
		}

		List<HttpResponse<String>> responses = apps.runTogether(increments);

		assertThat(slow.get().statusCode()).isEqualTo(200);
		assertThat(responses).allSatisfy((response) -> assertThat(response.statusCode()).isEqualTo(200));
		assertThat(apps.counter(app1, id)).isEqualTo(1 + 1 + REQUESTS / 2);
	}

	/**
	 * A new session on the node whose id is also the home of its lock, once both
	 * servers see every node up (a node killed by an earlier test is back).
	 */
	private static String sessionWithItsLockOn(String nodeId) {
		return sessionWithItsLockOn(nodeId, nodeId);
	}

	/** A new session whose lock's home is one node and whose data lives on the given node. */
	private static String sessionWithItsLockOn(String lockNodeId, String nodeId) {
		String[] found = new String[1];
		await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10)).until(() -> {
			String id = apps.newSession(app1);
			found[0] = id;
			return id.endsWith("-" + nodeId) && apps.lockNode(app1, id).equals(lockNodeId)
					&& apps.lockNode(app2, id).equals(lockNodeId);
		});
		return found[0];
	}

}
