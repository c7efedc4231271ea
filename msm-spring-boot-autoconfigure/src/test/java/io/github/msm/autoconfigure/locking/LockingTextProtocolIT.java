package io.github.msm.autoconfigure.locking;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code msm.locking-mode=all} over memcached's text protocol, which has no delete with
 * a CAS token: a lock is released by overwriting it with a short-lived marker that the
 * next request takes over.
 */
@Timeout(90)
class LockingTextProtocolIT {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private static final LockingApps apps = new LockingApps();

	@BeforeAll
	static void startInstances() {
		apps.start(memcached, "--msm.protocol=text", "--msm.locking-mode=all");
		apps.start(memcached, "--msm.protocol=text", "--msm.locking-mode=all");
	}

	@AfterAll
	static void stopInstances() {
		apps.close();
	}

	@Test
	void counter_ThirtyConcurrentIncrementsOverTwoServers_ShouldCountThirty() throws Exception {
		String id = apps.newSession(0);
		List<Callable<HttpResponse<String>>> increments = new ArrayList<>();
		for (int i = 0; i < 30; i++) {
			int instance = i % 2;
			increments.add(() -> apps.post(instance, "/counter", id));
		}

		List<HttpResponse<String>> responses = apps.runTogether(increments);

		assertThat(responses).allSatisfy((response) -> assertThat(response.statusCode()).isEqualTo(200));
		assertThat(apps.counter(1, id)).isEqualTo(31);
		String node = apps.lockNode(0, id);
		await().atMost(Duration.ofSeconds(5))
			.untilAsserted(() -> assertThat(memcached.node(node).get("lock:" + id.substring(0, 32)))
				.as("released: absent or marker")
				.satisfiesAnyOf((bytes) -> assertThat(bytes).isNull(),
						(bytes) -> assertThat(new String(bytes)).isEqualTo("released")));
	}

}
