package io.github.msm.session.sticky;

import java.time.Duration;
import java.time.Instant;

import io.github.msm.session.MemcachedSession;
import io.github.msm.session.StickyAccess;
import io.github.msm.session.node.NodeAvailability;
import io.github.msm.test.MemcachedServer;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Sticky mode when memcached nodes fail under sessions that are only read: the owner
 * never reads memcached for them, yet their memcached copies must follow the nodes, so
 * that another server can still take them over after a second failure.
 */
class StickyNodeFailureIT extends StickyITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@Test
	void readOnlySession_WhoseNodeRestartedEmptyAndWhoseBackupThenDies_ShouldStillBeTakenOver() {
		StickySessionRepository a = server("a");
		StickySessionRepository b = server("b");
		String id = create(a, "user", "alice").getId();
		a.flush();
		MemcachedServer primary = primaryOf(id);
		MemcachedServer other = memcached.node(primary.nodeId().equals("n1") ? "n2" : "n1");

		primary.kill();
		awaitUp(a, primary, false);
		id = readOnly(a, id);
		primary.restart();
		awaitUp(a, primary, true);
		id = readOnly(a, id);
		a.flush();
		other.kill();
		awaitUp(b, other, false);
		// b can read the restarted node (its probe reconnected after the restart), whatever
		// the phase of its probe when the other node died
		awaitUp(b, primary, true);

		MemcachedSession taken = b.findById(id);
		assertThat(taken).as("session %s taken over after its first node restarted empty and the other died", id)
			.isNotNull();
		assertThat((String) taken.getAttribute("user")).isEqualTo("alice");
	}

	/** A request that only reads; answers the id the browser holds after it. */
	private static String readOnly(StickySessionRepository server, String id) {
		MemcachedSession session = server.findById(id);
		assertThat(session).as("session %s", id).isNotNull();
		session.setLastAccessedTime(Instant.now());
		assertThat((String) session.getAttribute("user")).isEqualTo("alice");
		server.save(session);
		server.save(session);
		return session.getId();
	}

	private static void awaitUp(StickySessionRepository server, MemcachedServer node, boolean up) {
		NodeAvailability availability = new StickyAccess(server.memcachedRepository()).availability();
		await().atMost(Duration.ofSeconds(20))
			.until(() -> availability.available().stream().anyMatch((n) -> n.id().equals(node.nodeId())) == up);
	}

}
