package io.github.msm.session.sticky;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.github.msm.session.MemcachedSession;
import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.SessionMetrics;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.serializer.ClassAllowList;
import io.github.msm.session.serializer.KryoSessionSerializer;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServer;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two sticky servers whose sessions memcached loses again and again while 32 writers
 * change them: the write backs race with each other and with ordinary compare-and-sets,
 * and no acknowledged change may be lost, on the primary or the backup.
 */
class StickyWriteBackRaceIT extends StickyITSupport {

	private static final int SESSIONS_PER_SERVER = 20;

	private static final int WRITERS = 32;

	private static final int ROUNDS = 10;

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@Test
	void concurrentWriters_WhileMemcachedLosesEverySessionRepeatedly_ShouldLoseNoAcknowledgedChange()
			throws Exception {
		List<StickySessionRepository> servers = List.of(server("a"), server("b"));
		List<List<String>> ids = new ArrayList<>();
		for (StickySessionRepository server : servers) {
			List<String> own = new ArrayList<>();
			for (int i = 0; i < SESSIONS_PER_SERVER; i++) {
				own.add(create(server, "start", 0).getId());
			}
			server.flush();
			ids.add(own);
		}
		ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
		List<Future<?>> writers = new ArrayList<>();
		for (int writer = 0; writer < WRITERS; writer++) {
			int w = writer;
			writers.add(pool.submit(() -> {
				StickySessionRepository server = servers.get(w % 2);
				List<String> own = ids.get(w % 2);
				for (int round = 1; round <= ROUNDS; round++) {
					for (int i = 0; i < own.size(); i++) {
						// two writers make memcached lose everything amid each round but the
						// first: write backs race each other and compare-and-sets in flight
						if (w < 2 && round >= 2 && i == (w + 1) * own.size() / 3) {
							memcached.all().forEach(MemcachedServer::flushAll);
						}
						String id = own.get(i);
						assertThat(write(server, id, "w" + w, round)).as("id after the change").isEqualTo(id);
					}
				}
				return null;
			}));
		}
		for (Future<?> writer : writers) {
			writer.get();
		}
		pool.shutdown();
		// one more change of each session: those memcached lost after their last write
		// are written back with it, from what their server holds
		for (int server = 0; server < 2; server++) {
			for (String id : ids.get(server)) {
				write(servers.get(server), id, "final", true);
			}
		}
		servers.forEach(StickySessionRepository::flush);

		// backups first: a non-sticky read would write a missing backup again
		List<String> all = ids.stream().flatMap(List::stream).toList();
		await().atMost(Duration.ofSeconds(20))
			.untilAsserted(() -> assertThat(all).as("sessions whose backup differs from the primary")
				.filteredOn((id) -> {
					MemcachedServer primary = primaryOf(id);
					MemcachedServer other = memcached.node(primary.nodeId().equals("n1") ? "n2" : "n1");
					return !Arrays.equals(other.get("bak:" + id), primary.get(id));
				})
				.isEmpty());
		MemcachedSessionRepository plain = plain();
		List<String> lost = new ArrayList<>();
		for (int writer = 0; writer < WRITERS; writer++) {
			for (String id : ids.get(writer % 2)) {
				MemcachedSession stored = plain.findById(id);
				if (stored == null || !Integer.valueOf(ROUNDS).equals(stored.getAttribute("w" + writer))) {
					lost.add(id + " w" + writer + "=" + ((stored != null) ? stored.getAttribute("w" + writer) : null));
				}
			}
		}
		assertThat(lost).as("last changes memcached lacks").isEmpty();
		plain.shutdown();
	}

	private MemcachedSessionRepository plain() {
		NodeRing ring = NodeRing.parse(List.of(memcached.nodesProperty()));
		MemcachedStore store = new MemcachedStore(ring.nodes(), true, Duration.ofMillis(1000));
		MemcachedSessionRepository repository = new MemcachedSessionRepository(store, ring,
				new KryoSessionSerializer(ClassAllowList.of(List.of("io.github.msm")), getClass().getClassLoader()));
		repository.setMetrics(new SessionMetrics(this.registry));
		return repository;
	}

}
