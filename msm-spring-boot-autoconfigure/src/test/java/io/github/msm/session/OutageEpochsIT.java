package io.github.msm.session;

import java.time.Duration;
import java.util.List;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The outage counters (issue 20): an announcement reaches every server within the lease,
 * and while nothing was announced reads cost what they did (2 gets in one round trip),
 * over either protocol: the counters are read with {@code incr}, which creates nothing.
 */
class OutageEpochsIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(3);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@ParameterizedTest(name = "binaryProtocol={0}")
	@ValueSource(booleans = { true, false })
	void findById_WhileNoOutageWasAnnounced_ShouldCostTwoGetsPerReadAndCreateNoItem(boolean binary) {
		MemcachedSessionRepository server = server(binary);
		MemcachedSession session = server.createSession();
		session.setAttribute("k", "v");
		server.save(session);
		server.awaitBackupWrites();
		long items = memcached.stat("curr_items");
		memcached.resetStats();

		for (int i = 0; i < 100; i++) {
			assertThat(server.findById(session.getId())).isNotNull();
		}

		assertThat(memcached.stat("cmd_get")).as("gets of 100 reads, all nodes").isEqualTo(200);
		assertThat(memcached.stat("curr_items")).as("items").isEqualTo(items);
	}

	@Test
	void announce_OfAnOutage_ShouldBeKnownToAnotherServerAtItsNextRead() {
		MemcachedSessionRepository mover = server(true);
		MemcachedSessionRepository bystander = server(true);
		MemcachedNode n1 = NodeRing.parse(List.of(memcached.nodesProperty())).node("n1");
		assertThat(bystander.parts().epochs.awaitFresh(n1)).isTrue();
		assertThat(bystander.parts().epochs.isRecent(n1)).isFalse();

		mover.parts().epochs.announce(n1);

		assertThat(bystander.parts().epochs.awaitFresh(n1)).isTrue();
		assertThat(bystander.parts().epochs.isRecent(n1)).as("the bystander knows of the outage").isTrue();
	}

	private MemcachedSessionRepository server(boolean binary) {
		NodeRing ring = NodeRing.parse(List.of(memcached.nodesProperty()));
		MemcachedStore store = new MemcachedStore(ring.nodes(), binary, Duration.ofSeconds(1));
		MemcachedSessionRepository server = new MemcachedSessionRepository(store, ring, kryo());
		server.setMetrics(new SessionMetrics(new SimpleMeterRegistry()));
		registerStore(server, store);
		closeLater(server);
		return server;
	}

}
