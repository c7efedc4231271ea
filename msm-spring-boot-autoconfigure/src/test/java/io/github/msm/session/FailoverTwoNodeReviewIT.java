package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Adversarial review of the node-failover code (c35729a) with two nodes, msm's most
 * common setup: a session that moved away from a node cannot move back to it.
 */
class FailoverTwoNodeReviewIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	/**
	 * n1 dies: the session moves to {@code A-n2}. n1 comes back (this server writes the
	 * moved tombstone {@code A-n1 -> A-n2} there, for 10 minutes) and the next access
	 * copies the backup of {@code A-n2} to n1. Then n2 dies: the move back to {@code A-n1}
	 * meets the tombstone ({@code add} conflicts, the read says DELETED) and is refused.
	 * The request is served the backup copy under {@code A-n2}; every change saved for the
	 * next 10 minutes is discarded as "renamed or moved".
	 */
	@Test
	void save_AfterTheSessionMovedAwayAndItsNewNodeDiedToo_ShouldKeepTheChange() {
		MemcachedSession session = sessionOn(this.repository, "n1");
		session.setAttribute("user", "alice");
		session.setLastAccessedTime(Instant.now());
		this.repository.save(session);
		this.repository.awaitBackupWrites();
		String base = session.getId().substring(0, 32);
		memcached.node("n1").kill();
		MemcachedSession moved = this.repository.findById(session.getId());
		assertThat(moved.getId()).isEqualTo(base + "-n2");
		memcached.node("n1").restart();
		MemcachedNode n1 = NodeRing.parse(List.of(memcached.nodesProperty())).node("n1");
		await().atMost(Duration.ofSeconds(15)).until(() -> storeOf(this.repository).availability().isAvailable(n1));
		await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
			this.repository.findById(moved.getId()); // read-only access: copies the backup to n1
			this.repository.awaitBackupWrites();
			assertThat(readable(memcached.node("n1").get("bak:" + moved.getId()))).isNotNull();
		});
		memcached.node("n2").kill();

		MemcachedSession again = this.repository.findById(moved.getId());
		assertThat(again).isNotNull();
		again.setAttribute("counter", 1);
		this.repository.save(again);

		MemcachedSession next = this.repository.findById(again.getId());
		assertThat(next).isNotNull();
		assertThat((Integer) next.getAttribute("counter")).as("the change saved after the second failure").isEqualTo(1);
		assertThat((String) next.getAttribute("user")).isEqualTo("alice");
	}

}
