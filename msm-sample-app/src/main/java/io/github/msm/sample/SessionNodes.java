package io.github.msm.sample;

import io.github.msm.session.MemcachedSessionRepository;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

/**
 * Tells which memcached node a session lives on.
 *
 * @author msm-spring-boot
 */
@Component
public class SessionNodes {

	private final ObjectProvider<MemcachedSessionRepository> repository;

	public SessionNodes(ObjectProvider<MemcachedSessionRepository> repository) {
		this.repository = repository;
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

}
