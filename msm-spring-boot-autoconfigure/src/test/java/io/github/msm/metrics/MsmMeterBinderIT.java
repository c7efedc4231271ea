package io.github.msm.metrics;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import io.github.msm.session.MemcachedSession;
import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.SessionMetrics;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.serializer.ClassAllowList;
import io.github.msm.session.serializer.KryoSessionSerializer;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.session.web.SessionRequestScopeFilter;
import io.github.msm.test.MemcachedServers;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.servlet.ServletException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The meters {@link MsmMeterBinder} binds change with each outcome, against real memcached
 * processes (killed for the failover and node meters).
 */
class MsmMeterBinderIT {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

	private MemcachedStore store;

	private MemcachedSessionRepository repository;

	@BeforeEach
	void bind() {
		NodeRing ring = NodeRing.parse(List.of(memcached.nodesProperty()));
		this.store = new MemcachedStore(ring.nodes(), true, Duration.ofMillis(1000));
		this.repository = new MemcachedSessionRepository(this.store, ring, new KryoSessionSerializer(
				ClassAllowList.of(List.of("io.github.msm")), MsmMeterBinderIT.class.getClassLoader()));
		this.repository.setBackupAsync(false);
		new MsmMeterBinder(this.repository, this.store).bindTo(this.registry);
	}

	@AfterEach
	void close() {
		this.repository.shutdown();
	}

	@Test
	void save_WhenTheSessionChanged_ShouldCountWrittenAndRecordItsSize() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("user", "alice");

		this.repository.save(session);

		assertThat(saves("written")).isOne();
		assertThat(this.registry.get("msm.session.size").summary().count()).isOne();
		assertThat(this.registry.get("msm.session.size").summary().totalAmount()).isPositive();
	}

	@Test
	void save_WhenNothingChanged_ShouldCountUnchanged() {
		MemcachedSession session = stored();
		MemcachedSession read = this.repository.findById(session.getId());

		this.repository.save(read);

		assertThat(saves("unchanged")).isOne();
		assertThat(saves("written")).isOne();
	}

	@Test
	void save_WhenTheSessionIsTooLarge_ShouldCountTooLarge() {
		this.repository.setMaxItemSize(2048);
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("big", "x".repeat(4096));

		this.repository.save(session);

		assertThat(saves("too-large")).isOne();
		assertThat(saves("written")).isZero();
	}

	@Test
	void saveAndFind_ShouldTimeSerializationAndDeserialization() {
		MemcachedSession session = stored();

		this.repository.findById(session.getId()).getAttribute("user");

		assertThat(this.registry.get("msm.serialization").tag("direction", "serialize").timer().count()).isOne();
		assertThat(this.registry.get("msm.serialization").tag("direction", "deserialize").timer().count()).isOne();
	}

	@Test
	void memcachedOperations_ShouldBeTimedByOperationAndNode() {
		MemcachedSession session = stored();
		String node = this.repository.nodeIdOf(session.getId());

		this.repository.findById(session.getId());

		assertThat(this.registry.get("msm.memcached.operations").tags("operation", "set", "node", node, "outcome",
				"success").timer().count()).isOne();
		assertThat(this.registry.get("msm.memcached.operations").tags("operation", "get", "node", node, "outcome",
				"success").timer().count()).isOne();
	}

	@Test
	void findById_WhenThePrimaryIsKilled_ShouldCountARelocationAndTheNodeDown() {
		MemcachedSession session = stored();
		String node = this.repository.nodeIdOf(session.getId());
		assertThat(this.registry.get("msm.node.up").tag("node", node).gauge().value()).isOne();
		memcached.node(node).kill();

		MemcachedSession moved = this.repository.findById(session.getId());

		assertThat(moved.getId()).isNotEqualTo(session.getId());
		assertThat(this.registry.get("msm.session.failover").tag("kind", "relocation").counter().count()).isOne();
		assertThat(this.registry.get("msm.node.up").tag("node", node).gauge().value()).isZero();
	}

	@Test
	void nodeUp_WhenAKilledNodeIsRestarted_ShouldBeOneAgain() {
		memcached.node("n2").kill();
		this.store.availability().failed(this.store.availability().nodes().get(1), "killed by the test");
		assertThat(this.registry.get("msm.node.up").tag("node", "n2").gauge().value()).isZero();

		memcached.node("n2").restart();

		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(this.registry.get("msm.node.up").tag("node", "n2").gauge().value()).isOne());
	}

	@Test
	void requests_ShouldBeCountedByWhetherTheyHadASession() throws IOException, ServletException {
		MemcachedSession session = stored();
		SessionRequestScopeFilter filter = new SessionRequestScopeFilter(this.repository);

		filter.doFilter(new MockHttpServletRequest(), new MockHttpServletResponse(),
				(request, response) -> this.repository.findById(session.getId()));
		filter.doFilter(new MockHttpServletRequest(), new MockHttpServletResponse(), (request, response) -> {
		});

		assertThat(this.registry.get("msm.requests").tag("session", "true").counter().count()).isOne();
		assertThat(this.registry.get("msm.requests").tag("session", "false").counter().count()).isOne();
	}

	@Test
	void backupLag_WhileTheBackupNodeDoesNotAnswer_ShouldShowTheAgeOfTheOldestQueuedWrite() {
		this.repository.setBackupAsync(true);
		assertThat(this.registry.get("msm.backup.lag").timeGauge().value()).isZero();
		MemcachedSession session;
		do {
			session = this.repository.createSession();
		}
		while (!"n1".equals(this.repository.nodeIdOf(session.getId())));
		memcached.node("n2").hang();

		session.setAttribute("user", "alice");
		this.repository.save(session);

		// the lane's batch waits for the hung node until the operation timeout
		await().untilAsserted(() -> assertThat(this.registry.get("msm.backup.lag").timeGauge().value()).isPositive());
	}

	@Test
	void bindTo_WhenARegistryDeniesMsm_ShouldRegisterNothingThatCounts() {
		SimpleMeterRegistry denying = new SimpleMeterRegistry();
		denying.config().meterFilter(MeterFilter.denyNameStartsWith("msm"));
		new MsmMeterBinder(this.repository, this.store).bindTo(denying);

		stored();

		assertThat(denying.getMeters()).isEmpty();
	}

	@Test
	void findById_OfAStoredSession_ShouldCountFound() {
		MemcachedSession session = stored();

		this.repository.findById(session.getId());

		assertThat(lookups("found")).isOne();
		assertThat(lookups("missing") + lookups("expired") + lookups("unreadable")).isZero();
	}

	@Test
	void findById_OfAnUnknownId_ShouldCountMissing() {
		this.repository.findById("0123456789abcdef0123456789abcdef-n1");

		assertThat(lookups("missing")).isOne();
		assertThat(lookups("found")).isZero();
	}

	@Test
	void findById_OfASessionPastItsInterval_ShouldCountExpired() {
		MemcachedSession session = this.repository.createSession();
		session.setLastAccessedTime(Instant.now().minus(Duration.ofMinutes(31)));
		this.repository.save(session);

		assertThat(this.repository.findById(session.getId())).isNull();
		assertThat(lookups("expired")).isOne();
		assertThat(lookups("missing")).isZero();
	}

	@Test
	void findById_OfCorruptBytes_ShouldCountUnreadable() {
		MemcachedSession session = stored();
		memcached.node(this.repository.nodeIdOf(session.getId())).set(session.getId(), new byte[] { 1, 2, 3 }, 60);

		assertThat(this.repository.findById(session.getId())).isNull();
		assertThat(lookups("unreadable")).isOne();
	}

	@Test
	void localOnlySessions_WithAllNodesUp_ShouldBeZero() {
		stored();

		assertThat(this.registry.get("msm.sessions.local-only").gauge().value()).isZero();
	}

	@Test
	void failover_ShouldHaveOneHelpTextForAllKinds() {
		assertThat(this.registry.get("msm.session.failover").counters())
			.extracting((counter) -> counter.getId().getDescription())
			.containsOnly(SessionMetrics.FAILOVER);
	}

	private double lookups(String result) {
		return this.registry.get("msm.session.lookup").tag("result", result).counter().count();
	}

	private MemcachedSession stored() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("user", "alice");
		this.repository.save(session);
		return session;
	}

	private double saves(String outcome) {
		return this.registry.get("msm.session.saves").tag("outcome", outcome).counter().count();
	}

}
