package io.github.msm.session.sticky;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.github.msm.session.MemcachedSession;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sticky mode under load: queued writes of many concurrent requests, and many more
 * sessions than this server holds in memory.
 */
class StickyLoadIT extends StickyITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@Test
	void asyncWrites_ThousandModifiedRequestsThenShutdown_ShouldLeaveEveryLastValueInMemcached() throws Exception {
		StickySessionRepository a = server("a");
		a.setAsyncWrites(true, 10_000);
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < 20; i++) {
			ids.add(create(a, "count", 0).getId());
		}
		ExecutorService writers = Executors.newFixedThreadPool(20);
		List<Future<?>> done = new ArrayList<>();
		for (int w = 0; w < 20; w++) {
			String id = ids.get(w);
			// 20 writers, each owns one session and counts it up 50 times: 1 000 requests
			done.add(writers.submit(() -> {
				for (int n = 1; n <= 50; n++) {
					write(a, id, "count", n);
				}
			}));
		}
		for (Future<?> future : done) {
			future.get(60, TimeUnit.SECONDS);
		}
		writers.shutdown();

		a.shutdown();

		StickySessionRepository b = server("b");
		for (String id : ids) {
			assertThat(read(b, id, "count")).as("session %s on the next server", id).isEqualTo(50);
		}
	}

	@Test
	void manySessions_BeyondMaxSessions_ShouldStayBoundedInMemoryAndReadableFromMemcached() {
		StickySessionRepository a = server("a");
		a.setMaxSessions(10_000);
		String first = null;
		for (int i = 0; i < 100_000; i++) {
			MemcachedSession session = create(a, "n", i);
			if (first == null) {
				first = session.getId();
			}
		}
		a.sweep();

		assertThat(a.localSessionCount()).isLessThanOrEqualTo(10_000);
		assertThat(read(a, first, "n")).as("an evicted session, from memcached").isEqualTo(0);
	}

}
