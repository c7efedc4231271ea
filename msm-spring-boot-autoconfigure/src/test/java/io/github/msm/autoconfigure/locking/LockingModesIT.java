package io.github.msm.autoconfigure.locking;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The locking modes next to each other over real HTTP and two real memcached nodes:
 * {@code none} (two instances), {@code auto} (two instances), {@code uri-pattern} and
 * {@code all}; and what each adds to an uncontended request.
 */
@Timeout(180)
class LockingModesIT {

	private static final int WRITERS = 50;

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private static final LockingApps apps = new LockingApps();

	private static int none1;

	private static int none2;

	private static int auto1;

	private static int auto2;

	private static int uriPattern;

	private static int all;

	@BeforeAll
	static void startInstances() {
		none1 = apps.start(memcached);
		none2 = apps.start(memcached, "--msm.locking-mode=none");
		auto1 = apps.start(memcached, "--msm.locking-mode=auto");
		auto2 = apps.start(memcached, "--msm.locking-mode=auto");
		uriPattern = apps.start(memcached, "--msm.locking-mode=uri-pattern", "--msm.locking-uri-pattern=/count.*");
		all = apps.start(memcached, "--msm.locking-mode=all");
	}

	@AfterAll
	static void stopInstances() {
		apps.close();
	}

	@Test
	void counter_ModeNoneFiftyConcurrentIncrementsOverTwoServers_ShouldLoseUpdates() throws Exception {
		String id = apps.newSession(none1);
		List<Callable<HttpResponse<String>>> increments = new ArrayList<>();
		for (int i = 0; i < WRITERS; i++) {
			int instance = (i % 2 == 0) ? none1 : none2;
			increments.add(() -> apps.post(instance, "/counter", id));
		}

		List<HttpResponse<String>> responses = apps.runTogether(increments);

		assertThat(responses).allSatisfy((response) -> assertThat(response.statusCode()).isEqualTo(200));
		int counted = apps.counter(none2, id) - 1;
		System.out.printf("[LockingModesIT] none: %d concurrent increments over 2 servers counted %d: %d lost%n",
				WRITERS, counted, WRITERS - counted);
		assertThat(counted).as("without locks, concurrent read-modify-writes of one attribute overwrite each other")
			.isBetween(1, WRITERS - 1);
	}

	@Test
	void readOnlyRoute_ModeAutoAfterLearning_ShouldRunInParallel() throws Exception {
		String id = apps.newSession(auto1);
		apps.get(auto1, "/report", id);
		apps.get(auto2, "/report", id);

		long started = System.nanoTime();
		List<HttpResponse<String>> responses = apps.runTogether(List.of(
				() -> apps.get(auto1, "/report?sleepMs=1000", id), () -> apps.get(auto2, "/report?sleepMs=1000", id),
				() -> apps.get(auto1, "/report?sleepMs=1000", id)));
		long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

		assertThat(responses).allSatisfy((response) -> assertThat(response.statusCode()).isEqualTo(200));
		assertThat(millis).as("three 1 s read-only requests together").isLessThan(2000);
		assertThat(apps.lockRequests("skipped-readonly", auto1, auto2)).isGreaterThanOrEqualTo(3);
	}

	@Test
	void modifyingRoute_ModeAuto_ShouldExcludeOtherModifyingRequests() throws Exception {
		String id = apps.newSession(auto1);
		apps.get(auto1, "/report", id);

		long started = System.nanoTime();
		List<HttpResponse<String>> responses = apps.runTogether(List.of(
				() -> apps.post(auto1, "/counter?sleepMs=1000", id), () -> apps.post(auto2, "/counter?sleepMs=1000", id)));
		long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

		assertThat(responses).allSatisfy((response) -> assertThat(response.statusCode()).isEqualTo(200));
		assertThat(millis).as("two 1 s modifying requests, one after the other").isGreaterThanOrEqualTo(2000);
		assertThat(apps.counter(auto2, id)).isEqualTo(3);
	}

	@Test
	void uriPattern_ShouldLockOnlyMatchingPaths() throws Exception {
		String id = apps.newSession(uriPattern);
		double acquired = apps.lockRequests("acquired", uriPattern);
		double skipped = apps.lockRequests("skipped-readonly", uriPattern);

		apps.get(uriPattern, "/counter", id);
		apps.get(uriPattern, "/report", id);
		apps.get(uriPattern, "/report?path=/counter", id);

		assertThat(apps.lockRequests("acquired", uriPattern) - acquired).as("/counter").isEqualTo(1);
		assertThat(apps.lockRequests("skipped-readonly", uriPattern) - skipped).as("/report, whatever the query")
			.isEqualTo(2);
	}

	/**
	 * Not a benchmark: per mode, one session on one instance, 100 warm-up requests, then
	 * 15 rounds in which every mode sends 20 sequential GETs (read-only) and 20 POSTs
	 * (modifying), interleaved so that the load of the machine hits all modes alike; the
	 * median per mode and kind is printed for the closing note, with the memcached
	 * operations of one request counted by the nodes.
	 */
	@Test
	void uncontendedRequests_EachMode_ShouldReportTheAddedLatency() throws Exception {
		int[] instances = { none1, auto1, uriPattern, all };
		String[] ids = new String[instances.length];
		List<List<Long>> gets = new ArrayList<>();
		List<List<Long>> posts = new ArrayList<>();
		for (int m = 0; m < instances.length; m++) {
			ids[m] = apps.newSession(instances[m]);
			for (int i = 0; i < 50; i++) {
				send(instances[m], ids[m], false);
				send(instances[m], ids[m], true);
			}
			gets.add(new ArrayList<>());
			posts.add(new ArrayList<>());
		}
		for (int round = 0; round < 15; round++) {
			for (int m = 0; m < instances.length; m++) {
				for (int i = 0; i < 20; i++) {
					gets.get(m).add(timed(instances[m], ids[m], false));
					posts.get(m).add(timed(instances[m], ids[m], true));
				}
			}
		}
		StringBuilder report = new StringBuilder(
				"[LockingModesIT] uncontended requests, median µs (difference to none), memcached ops per request:");
		for (int m = 0; m < instances.length; m++) {
			long get = median(gets.get(m));
			long post = median(posts.get(m));
			report.append(String.format("%n  %-12s GET %5d (%+5d) %s   POST %5d (%+5d) %s", name(instances[m]), get,
					get - median(gets.get(0)), ops(instances[m], ids[m], false), post, post - median(posts.get(0)),
					ops(instances[m], ids[m], true)));
			assertThat(Math.min(get, post)).isPositive();
		}
		System.out.println(report);
	}

	private static long timed(int instance, String id, boolean post) throws Exception {
		long started = System.nanoTime();
		send(instance, id, post);
		return TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - started);
	}

	private static long median(List<Long> values) {
		List<Long> sorted = new ArrayList<>(values);
		sorted.sort(null);
		return sorted.get(sorted.size() / 2);
	}

	/** Operations of one request as the nodes count them (backup writes settle first). */
	private static String ops(int instance, String id, boolean post) throws Exception {
		send(instance, id, post);
		apps.awaitBackupWrites();
		memcached.resetStats();
		send(instance, id, post);
		apps.awaitBackupWrites();
		return String.format("[get %d, set/add %d, cas %d, delete %d]", memcached.stat("cmd_get"),
				memcached.stat("cmd_set"), memcached.stat("cas_hits") + memcached.stat("cas_badval"),
				memcached.stat("delete_hits") + memcached.stat("delete_misses"));
	}

	private static void send(int instance, String id, boolean post) throws Exception {
		HttpResponse<String> response = post ? apps.post(instance, "/counter", id) : apps.get(instance, "/report", id);
		assertThat(response.statusCode()).isEqualTo(200);
	}

	private static String name(int instance) {
		return (instance == none1) ? "none" : (instance == auto1) ? "auto" : (instance == all) ? "all" : "uri-pattern";
	}

}
