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
 * {@code msm.locking-mode} in sticky mode, over real HTTP: each server locks its
 * sessions inside itself (the server that holds a session is its only writer), with the
 * same modes, timeout and timeout action as in non-sticky mode. Before, sticky mode
 * ignored the setting and 50 concurrent increments counted 1 or 2.
 */
@Timeout(120)
class StickyLockingIT {

	private static final int WRITERS = 50;

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private static final LockingApps apps = new LockingApps();

	private static int all;

	private static int auto;

	private static int autoAsync;

	@BeforeAll
	static void startInstances() {
		all = apps.start(memcached, "--msm.sticky=true", "--msm.jvm-route=app1", "--msm.locking-mode=all");
		auto = apps.start(memcached, "--msm.sticky=true", "--msm.jvm-route=app2", "--msm.locking-mode=auto",
				"--msm.lock-timeout=1s");
		autoAsync = apps.start(memcached, "--msm.sticky=true", "--msm.jvm-route=app3", "--msm.locking-mode=auto",
				"--msm.sticky.async-writes=true");
	}

	@AfterAll
	static void stopInstances() {
		apps.close();
	}

	@Test
	void counter_FiftyConcurrentIncrementsOnOneStickyServerWithModeAll_ShouldCountFifty() throws Exception {
		String id = apps.newSession(all);
		apps.awaitBackupWrites();
		memcached.resetStats();

		List<HttpResponse<String>> responses = apps.runTogether(increments(all, id));

		assertThat(responses).allSatisfy((response) -> assertThat(response.statusCode()).isEqualTo(200));
		assertThat(apps.counter(all, id)).isEqualTo(1 + WRITERS);
		assertThat(memcached.stat("delete_hits") + memcached.stat("delete_misses"))
			.as("no memcached lock item was released").isZero();
	}

	@Test
	void counter_FiftyConcurrentIncrementsOnOneStickyServerWithModeAuto_ShouldCountFifty() throws Exception {
		String id = apps.newSession(auto);

		List<HttpResponse<String>> responses = apps.runTogether(increments(auto, id));

		assertThat(responses).allSatisfy((response) -> assertThat(response.statusCode()).isEqualTo(200));
		assertThat(apps.counter(auto, id)).isEqualTo(1 + WRITERS);
	}

	@Test
	void counter_ModeAutoWithAsyncWritesAfterTheRouteWasLearned_ShouldCountFifty() throws Exception {
		String id = apps.newSession(autoAsync);
		assertThat(apps.post(autoAsync, "/counter", id).body()).as("a queued change: the route is learned as modifying")
			.endsWith(" 2");

		List<HttpResponse<String>> responses = apps.runTogether(increments(autoAsync, id));

		assertThat(responses).allSatisfy((response) -> assertThat(response.statusCode()).isEqualTo(200));
		assertThat(apps.lockRequests("skipped-readonly", autoAsync)).as("no increment skipped its lock").isZero();
		assertThat(apps.counter(autoAsync, id)).isEqualTo(2 + WRITERS);
	}

	@Test
	void request_WhileTheLockIsHeldLongerThanTheTimeout_ShouldAnswer503AndChangeNothing() throws Exception {
		String id = apps.newSession(auto);
		double acquiredBefore = apps.lockRequests("acquired", auto);
		Future<HttpResponse<String>> holder = apps.submit(() -> apps.post(auto, "/counter?sleepMs=3000", id));
		await().atMost(Duration.ofSeconds(10)).until(() -> apps.lockRequests("acquired", auto) > acquiredBefore);

		HttpResponse<String> refused = apps.post(auto, "/counter", id);

		assertThat(refused.statusCode()).isEqualTo(503);
		assertThat(holder.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
		assertThat(apps.lockRequests("timeout-failed", auto)).isPositive();
		assertThat(apps.counter(auto, id)).as("only the holder counted").isEqualTo(2);
	}

	private static List<Callable<HttpResponse<String>>> increments(int instance, String id) {
		List<Callable<HttpResponse<String>>> increments = new ArrayList<>();
		for (int i = 0; i < WRITERS; i++) {
			increments.add(() -> apps.post(instance, "/counter", id));
		}
		return increments;
	}

}
