package io.github.msm.session;

import java.time.Duration;
import java.util.List;

import io.github.msm.session.node.NodeRing;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node whose item limit ({@code -I 512k}) is below msm.max-item-size (1 MiB), spoken to
 * over the text protocol, where a refused item would also drop the connection.
 */
class ServerItemSizeIT {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodesWithMaxItemSize(1, "512k");

	private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

	private MemcachedSessionRepository repository;

	@BeforeEach
	void createRepository() {
		NodeRing ring = NodeRing.parse(List.of(memcached.nodesProperty()));
		MemcachedStore store = new MemcachedStore(ring.nodes(), false, Duration.ofMillis(1000));
		this.repository = new MemcachedSessionRepository(store, ring, RepositoryITSupport.kryo());
		this.repository.setMetrics(new SessionMetrics(this.registry));
		this.repository.setMaxItemSize(1024 * 1024);
	}

	@AfterEach
	void closeRepository() {
		this.repository.shutdown();
	}

	@Test
	void save_SessionOverServerLimit_ShouldBeRefusedAsOversizeWithoutSendingIt() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("big", new byte[700 * 1024]);
		this.repository.save(session);

		assertThat(this.registry.counter("msm.session.saves", "outcome", "too-large").count()).isEqualTo(1);
		assertThat(memcached.stat("cmd_set")).isZero();
	}

	@Test
	void save_AfterSessionOverServerLimit_ShouldStoreTheNextSession() {
		MemcachedSession big = this.repository.createSession();
		big.setAttribute("big", new byte[700 * 1024]);
		this.repository.save(big);
		MemcachedSession next = this.repository.createSession();
		next.setAttribute("k", "v");
		this.repository.save(next);

		assertThat(this.registry.counter("msm.session.saves", "outcome", "failed").count()).isZero();
		assertThat((String) this.repository.findById(next.getId()).getAttribute("k")).isEqualTo("v");
	}

}
