package io.github.msm.sample;

import java.util.List;

import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.storage.MemcachedStore;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

/**
 * Tells which memcached node a session lives on, and which nodes the store takes for down.
 *
 * @author msm-spring-boot
 */
@Component
public class SessionNodes {

	private final ObjectProvider<MemcachedSessionRepository> repository;

	private final ObjectProvider<MemcachedStore> store;

	private final ObjectProvider<NodeRing> ring;

	public SessionNodes(ObjectProvider<MemcachedSessionRepository> repository, ObjectProvider<MemcachedStore> store,
			ObjectProvider<NodeRing> ring) {
		this.repository = repository;
		this.store = store;
		this.ring = ring;
	}

	/**
	 * The id of the memcached node that holds a session.
	 * @param sessionId a session id
	 * @return the node id such as {@code n1}, or {@code null} when ids carry no node (a
	 * single node configured as a plain {@code host:port}) or the store is not in use
	 */
	public @Nullable String nodeOf(String sessionId) {
		MemcachedSessionRepository repository = this.repository.getIfAvailable();
		return (repository != null) ? repository.nodeIdOf(sessionId) : null;
	}

	/**
	 * The nodes this server currently takes for down: sessions on them move to another
	 * node at their next request.
	 * @return their ids in ring order, empty when all are up or the store is not in use
	 */
	public List<String> down() {
		MemcachedStore store = this.store.getIfAvailable();
		NodeRing ring = this.ring.getIfAvailable();
		if (store == null || ring == null) {
			return List.of();
		}
		return ring.nodes()
			.stream()
			.filter((node) -> !store.availability().isAvailable(node))
			.map(MemcachedNode::id)
			.toList();
	}

}
