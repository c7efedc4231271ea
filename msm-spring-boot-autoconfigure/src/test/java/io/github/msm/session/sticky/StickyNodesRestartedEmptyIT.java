package io.github.msm.session.sticky;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.github.msm.session.MemcachedSession;
import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.SessionMetrics;
import io.github.msm.session.StickyAccess;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeAvailability;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.serializer.ClassAllowList;
import io.github.msm.session.serializer.KryoSessionSerializer;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServer;
import io.github.msm.test.MemcachedServers;
import io.github.msm.test.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A sticky server keeps the sessions it holds when memcached loses them: every node (or
 * the only node of a one-node setup) restarted empty is no logout. A held session's next
 * change, its periodic check, or its recheck after the nodes came back writes it back
 * under the same id, with its backup; only a tombstone (logout, login, takeover by
 * another server) ends it.
 */
class StickyNodesRestartedEmptyIT extends StickyITSupport {

	private static final int SESSIONS = 20;

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private final List<MemcachedSessionRepository> plains = new ArrayList<>();

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@AfterEach
	void shutdownPlains() {
		this.plains.forEach(MemcachedSessionRepository::shutdown);
	}

	@Test
	void changedSessions_AfterTheOnlyNodeRestartedEmpty_ShouldBeWrittenBackUnderTheirIds() {
		String oneNode = memcached.node("n1").nodeSpec();
		StickySessionRepository a = server("a", new MutableClock(Duration.ZERO), oneNode);
		List<String> ids = createSessions(a);

		restartEmpty(a, memcached.node("n1"));
		assertThat(ids).as("sessions lost (or moved) at their change")
			.filteredOn((id) -> !id.equals(changeIfFound(a, id, 2)))
			.isEmpty();
		a.flush();

		assertServedAndStored(a, ids, oneNode, 2);
	}

	@Test
	void changedSessions_AfterEveryNodeRestartedEmpty_ShouldBeWrittenBackWithTheirBackups() {
		StickySessionRepository a = server("a", new MutableClock(Duration.ZERO));
		List<String> ids = createSessions(a);

		restartEmpty(a, memcached.node("n1"), memcached.node("n2"));
		assertThat(ids).as("sessions lost (or moved) at their change")
			.filteredOn((id) -> !id.equals(changeIfFound(a, id, 2)))
			.isEmpty();
		a.flush();

		assertServedAndStored(a, ids, memcached.nodesProperty(), 2);
		assertBackedUp(ids);
	}

	@Test
	void readSessions_AfterTheOnlyNodeRestartedEmpty_ShouldBeWrittenBackAtTheirCheck() {
		MutableClock clock = new MutableClock(Duration.ZERO);
		String oneNode = memcached.node("n1").nodeSpec();
		StickySessionRepository a = server("a", clock, oneNode);
		a.startSweeper(Duration.ofSeconds(10));
		List<String> ids = createSessions(a);

		restartEmpty(a, memcached.node("n1"));
		clock.advance(Duration.ofSeconds(11));
		assertThat(ids).as("sessions lost at their check")
			.filteredOn((id) -> !Integer.valueOf(1).equals(readIfFound(a, id)))
			.isEmpty();
		a.flush();

		assertServedAndStored(a, ids, oneNode, 1);
	}

	@Test
	void readSessions_AfterEveryNodeRestartedEmpty_ShouldBeWrittenBackAtTheirCheck() {
		MutableClock clock = new MutableClock(Duration.ZERO);
		StickySessionRepository a = server("a", clock);
		a.startSweeper(Duration.ofSeconds(10));
		List<String> ids = createSessions(a);

		restartEmpty(a, memcached.node("n1"), memcached.node("n2"));
		clock.advance(Duration.ofSeconds(11));
		assertThat(ids).as("sessions lost at their check")
			.filteredOn((id) -> !Integer.valueOf(1).equals(readIfFound(a, id)))
			.isEmpty();
		a.flush();

		assertServedAndStored(a, ids, memcached.nodesProperty(), 1);
		assertBackedUp(ids);
	}

	@Test
	void idleSessions_AfterEveryNodeRestartedEmpty_ShouldBeWrittenBackByTheSweepBeforeTheirNextRequest() {
		StickySessionRepository a = server("a", new MutableClock(Duration.ZERO));
		List<String> ids = createSessions(a);

		restartEmpty(a, memcached.node("n1"), memcached.node("n2"));
		a.sweep();
		a.flush();

		MemcachedSessionRepository plain = plain(memcached.nodesProperty());
		assertThat(ids).as("sessions memcached does not hold before any request").filteredOn((id) -> {
			MemcachedSession stored = plain.findById(id);
			return stored == null || !Integer.valueOf(1).equals(stored.getAttribute("count"));
		}).isEmpty();
		assertBackedUp(ids);
		assertServedAndStored(a, ids, memcached.nodesProperty(), 1);
	}

	@Test
	void changedSessions_WhoseItemsMemcachedLostWithoutARestart_ShouldBeWrittenBackUnderTheirIds() {
		StickySessionRepository a = server("a", new MutableClock(Duration.ZERO));
		List<String> ids = createSessions(a);

		// evicted or flushed: no node went away, so nothing tells the server to look
		memcached.all().forEach(MemcachedServer::flushAll);
		assertThat(ids).as("sessions lost (or moved) at their change")
			.filteredOn((id) -> !id.equals(changeIfFound(a, id, 2)))
			.isEmpty();
		a.flush();

		assertServedAndStored(a, ids, memcached.nodesProperty(), 2);
		assertBackedUp(ids);
	}

	@Test
	void login_OfSessionsWhoseItemsMemcachedLost_ShouldKeepTheirStateUnderTheNewIds() {
		StickySessionRepository a = server("a", new MutableClock(Duration.ZERO));
		List<String> ids = createSessions(a);

		memcached.all().forEach(MemcachedServer::flushAll);
		List<String> newIds = new ArrayList<>();
		for (String id : ids) {
			MemcachedSession session = a.findById(id);
			assertThat(session).as("session %s", id).isNotNull();
			session.changeSessionId();
			session.setAttribute("user", "alice");
			a.save(session);
			a.save(session);
			newIds.add(session.getId());
		}
		a.flush();

		assertServedAndStored(a, newIds, memcached.nodesProperty(), 1);
		MemcachedSessionRepository plain = plain(memcached.nodesProperty());
		assertThat(newIds).as("logged-in sessions without their user")
			.filteredOn((id) -> !"alice".equals(plain.findById(id).getAttribute("user")))
			.isEmpty();
		assertThat(ids).as("pre-login ids still alive")
			.filteredOn((id) -> a.findById(id) != null || plain.findById(id) != null)
			.isEmpty();
	}

	@Test
	void readSessions_WhoseItemsMemcachedLostWithoutARestart_ShouldBeWrittenBackAtTheirCheck() {
		MutableClock clock = new MutableClock(Duration.ZERO);
		StickySessionRepository a = server("a", clock);
		a.startSweeper(Duration.ofSeconds(10));
		List<String> ids = createSessions(a);

		memcached.all().forEach(MemcachedServer::flushAll);
		clock.advance(Duration.ofSeconds(11));
		assertThat(ids).as("sessions lost at their check")
			.filteredOn((id) -> !Integer.valueOf(1).equals(readIfFound(a, id)))
			.isEmpty();
		a.flush();

		assertServedAndStored(a, ids, memcached.nodesProperty(), 1);
		assertBackedUp(ids);
	}

	@Test
	void asyncChangedSessions_AfterEveryNodeRestartedEmpty_ShouldBeWrittenBackUnderTheirIds() {
		StickySessionRepository a = server("a", new MutableClock(Duration.ZERO));
		a.setAsyncWrites(true, 1000);
		List<String> ids = createSessions(a);

		restartEmpty(a, memcached.node("n1"), memcached.node("n2"));
		assertThat(ids).as("sessions lost (or moved) at their change")
			.filteredOn((id) -> !id.equals(changeIfFound(a, id, 2)))
			.isEmpty();
		a.flush();

		assertServedAndStored(a, ids, memcached.nodesProperty(), 2);
		assertBackedUp(ids);
	}

	@Test
	void heldSessions_LoggedOutOnAnotherServer_ShouldEndAtTheirCheck() {
		MutableClock clock = new MutableClock(Duration.ZERO);
		StickySessionRepository a = server("a", clock);
		StickySessionRepository b = server("b", clock);
		a.startSweeper(Duration.ofSeconds(10));
		List<String> ids = createSessions(a);

		ids.forEach(b::deleteById);
		clock.advance(Duration.ofSeconds(11));

		assertThat(ids).as("sessions A still serves").filteredOn((id) -> a.findById(id) != null).isEmpty();
		MemcachedSessionRepository plain = plain(memcached.nodesProperty());
		assertThat(ids).as("sessions in memcached").filteredOn((id) -> plain.findById(id) != null).isEmpty();
	}

	@Test
	void heldSession_TakenOverElsewhereThenItsPrimaryRestartedEmpty_ShouldNotBeServedNorWrittenBack() {
		StickySessionRepository a = server("a", new MutableClock(Duration.ZERO));
		StickySessionRepository b = server("b");
		String id = create(a, "count", 1).getId();
		a.flush();
		String taken = write(b, id, "count", 2);
		b.flush();

		// the primary's tombstone is gone with the node; the backup node still has one
		restartEmpty(a, primaryOf(id));

		assertThat(a.findById(id)).as("A's copy of the session B took over").isNull();
		assertThat(plain(memcached.nodesProperty()).findById(id)).as("the old id in memcached").isNull();
		assertThat(read(b, taken, "count")).isEqualTo(2);
	}

	@Test
	void heldSession_TakenOverElsewhereThenItsPrimaryLostTheTombstone_ShouldNotBeWrittenBackByItsNextChange() {
		StickySessionRepository a = server("a", new MutableClock(Duration.ZERO));
		StickySessionRepository b = server("b");
		String id = create(a, "count", 1).getId();
		a.flush();
		String taken = write(b, id, "count", 2);
		b.flush();

		primaryOf(id).flushAll();
		write(a, id, "count", 99);
		a.flush();

		assertThat(a.findById(id)).as("A's copy of the session B took over").isNull();
		assertThat(plain(memcached.nodesProperty()).findById(id)).as("the old id in memcached").isNull();
		assertThat(read(b, taken, "count")).isEqualTo(2);
	}

	@Test
	void takeover_OfAHeldSession_ShouldLeaveATombstoneThatOutlivesTheHeldCopy() {
		StickySessionRepository a = server("a");
		StickySessionRepository b = server("b");
		String id = create(a, "count", 1).getId();
		a.flush();

		write(b, id, "count", 2);
		b.flush();

		Long expiresIn = primaryOf(id).expiresInSeconds(id);
		assertThat(expiresIn).as("seconds the tombstone of the old id lives").isNotNull();
		assertThat(expiresIn).isGreaterThanOrEqualTo(Duration.ofMinutes(30).toSeconds());
	}

	/** A request that sets the count; answers the id after it, {@code null} when the session was not found. */
	private static String changeIfFound(StickySessionRepository server, String id, int count) {
		MemcachedSession session = server.findById(id);
		if (session == null) {
			return null;
		}
		session.setAttribute("count", count);
		server.save(session);
		server.save(session);
		return session.getId();
	}

	/** A request that reads the count; {@code null} when the session was not found. */
	private static Object readIfFound(StickySessionRepository server, String id) {
		MemcachedSession session = server.findById(id);
		if (session == null) {
			return null;
		}
		Object count = session.getAttribute("count");
		server.save(session);
		server.save(session);
		return count;
	}

	private List<String> createSessions(StickySessionRepository server) {
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < SESSIONS; i++) {
			ids.add(create(server, "count", 1).getId());
		}
		server.flush();
		return ids;
	}

	private void assertServedAndStored(StickySessionRepository server, List<String> ids, String nodes, int count) {
		assertThat(ids).as("sessions the sticky server lost")
			.filteredOn((id) -> !Integer.valueOf(count).equals(readIfFound(server, id)))
			.isEmpty();
		MemcachedSessionRepository plain = plain(nodes);
		assertThat(ids).as("sessions memcached does not hold with count=" + count).filteredOn((id) -> {
			MemcachedSession stored = plain.findById(id);
			return stored == null || !id.equals(stored.getId()) || !Integer.valueOf(count).equals(stored.getAttribute("count"));
		}).isEmpty();
	}

	/** Each session's backup item holds what its primary holds. */
	private void assertBackedUp(List<String> ids) {
		assertThat(ids).as("sessions without their backup").filteredOn((id) -> {
			MemcachedServer primary = primaryOf(id);
			MemcachedServer other = memcached.node(primary.nodeId().equals("n1") ? "n2" : "n1");
			byte[] backup = other.get("bak:" + id);
			return backup == null || !java.util.Arrays.equals(backup, primary.get(id));
		}).isEmpty();
	}

	private MemcachedSessionRepository plain(String nodes) {
		NodeRing ring = NodeRing.parse(List.of(nodes));
		MemcachedStore store = new MemcachedStore(ring.nodes(), true, Duration.ofMillis(1000));
		MemcachedSessionRepository repository = new MemcachedSessionRepository(store, ring,
				new KryoSessionSerializer(ClassAllowList.of(List.of("io.github.msm")), getClass().getClassLoader()));
		repository.setMetrics(new SessionMetrics(this.registry));
		this.plains.add(repository);
		return repository;
	}

	/**
	 * Restarts nodes empty and waits until the server has seen each come back (its
	 * connection was lost and made again), so that requests meet empty nodes, not dead ones.
	 */
	private static void restartEmpty(StickySessionRepository server, MemcachedServer... nodes) {
		NodeAvailability availability = new StickyAccess(server.memcachedRepository()).availability();
		for (MemcachedServer node : nodes) {
			MemcachedNode seen = availability.nodes().stream().filter((n) -> n.id().equals(node.nodeId())).findFirst()
				.orElseThrow();
			long restarts = availability.restarts(seen);
			node.restart();
			await().atMost(Duration.ofSeconds(20))
				.until(() -> availability.restarts(seen) > restarts && availability.isAvailable(seen));
		}
	}

}
