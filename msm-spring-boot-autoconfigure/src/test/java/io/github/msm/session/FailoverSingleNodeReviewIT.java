package io.github.msm.session;

import java.time.Duration;
import java.util.List;

import io.github.msm.session.node.NodeRing;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Adversarial review of the node-failover code (c35729a) with a single node given as
 * plain {@code host:port} (the default {@code msm.nodes=localhost:11211}).
 */
class FailoverSingleNodeReviewIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(1);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	/**
	 * "All nodes down: requests still succeed; new sessions are kept in this server's
	 * memory". With a plain single node, ids never count as local: {@code save} keeps the
	 * session under yet another new local id (a new cookie on every save), and
	 * {@code findById} of that id goes to the down node and finds nothing. Each request
	 * starts a new session, while up to 10,000 unreachable ones fill the memory.
	 */
	@Test
	void save_WhenThePlainSingleNodeIsDown_ShouldKeepTheSessionFindableUnderItsId() {
		NodeRing ring = NodeRing.parse(List.of(memcached.node("n1").address()));
		MemcachedStore store = new MemcachedStore(ring.nodes(), true, Duration.ofMillis(1000));
		MemcachedSessionRepository repository = new MemcachedSessionRepository(store, ring, kryo());
		try {
			memcached.node("n1").kill();
			repository.findById("0123456789abcdef0123456789abcdef"); // notices the node is down

			MemcachedSession session = repository.createSession();
			String created = session.getId();
			session.setAttribute("user", "alice");
			repository.save(session);

			MemcachedSession found = repository.findById(session.getId());
			assertThat(found).as("the session, at the next request").isNotNull();
			assertThat((String) found.getAttribute("user")).isEqualTo("alice");
			assertThat(session.getId()).as("the id the browser was given").isEqualTo(created);
		}
		finally {
			repository.shutdown();
		}
	}

}
