package io.github.msm.session;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeAvailability;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A drained node takes no new sessions, and the sessions on it move to another node at
 * their next access, data intact, while the node still answers.
 */
class NodeDrainIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(3);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@Test
	void createSession_WhenANodeIsDrained_ShouldNeverStartSessionsOnIt() {
		MemcachedNode n2 = node("n2");
		availability().drain(n2);

		Set<String> nodes = new HashSet<>();
		for (int i = 0; i < 50; i++) {
			nodes.add(this.repository.nodeIdOf(this.repository.createSession().getId()));
		}

		assertThat(nodes).containsExactlyInAnyOrder("n1", "n3");
	}

	@Test
	void findById_WhenTheSessionsNodeIsDrained_ShouldMoveItToAnotherNodeWithItsData() {
		MemcachedSession session = storedOn("n2");
		availability().drain(node("n2"));

		MemcachedSession moved = this.repository.findById(session.getId());

		assertThat(moved.getId()).isEqualTo(base(session) + "-n3");
		assertThat((String) moved.getAttribute("user")).isEqualTo("alice");
		assertThat(readable(memcached.node("n3").get(moved.getId()))).isNotNull();
		await().atMost(Duration.ofSeconds(5))
			.untilAsserted(() -> assertThat(readable(memcached.node("n2").get(session.getId()))).isNull());
	}

	@Test
	void save_WhenTheSessionsNodeIsDrainedAfterTheRead_ShouldStoreTheChangeOnAnotherNode() {
		MemcachedSession session = storedOn("n2");
		MemcachedSession read = this.repository.findById(session.getId());
		availability().drain(node("n2"));

		read.setAttribute("cart", "3 items");
		this.repository.save(read);

		assertThat(read.getId()).isEqualTo(base(session) + "-n3");
		MemcachedSession again = this.repository.findById(read.getId());
		assertThat((String) again.getAttribute("cart")).isEqualTo("3 items");
		assertThat((String) again.getAttribute("user")).isEqualTo("alice");
	}

	@Test
	void createSession_WhenEveryNodeIsDrained_ShouldStillUseTheNodes() {
		availability().nodes().forEach(availability()::drain);

		MemcachedSession session = this.repository.createSession();

		assertThat(this.repository.nodeIdOf(session.getId())).isNotNull();
	}

	@Test
	void createSession_AfterUndrain_ShouldUseTheNodeAgain() {
		MemcachedNode n2 = node("n2");
		availability().drain(n2);
		availability().undrain(n2);

		Set<String> nodes = new HashSet<>();
		for (int i = 0; i < 100 && !nodes.contains("n2"); i++) {
			nodes.add(this.repository.nodeIdOf(this.repository.createSession().getId()));
		}

		assertThat(nodes).contains("n2");
	}

	private NodeAvailability availability() {
		return storeOf(this.repository).availability();
	}

	private MemcachedNode node(String id) {
		return availability().nodes().stream().filter((node) -> node.id().equals(id)).findFirst().orElseThrow();
	}

}
