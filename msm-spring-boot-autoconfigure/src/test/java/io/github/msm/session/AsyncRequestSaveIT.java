package io.github.msm.session;

import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An async request (a {@code Callable} or {@code DeferredResult} in Spring MVC) shares one
 * session between two threads: Spring Session's filter saves it at the end of the first
 * dispatch, on the container thread, while the async work may already be changing it on
 * another thread; the async dispatch saves it again. These tests replay that interleaving
 * step by step, against real memcached servers.
 */
class AsyncRequestSaveIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@Test
	void save_WhenTheAsyncThreadSetsAnAttributeDuringTheFirstDispatchsSave_ShouldWriteItOnTheAsyncDispatchsSave() {
		String id = storedCounter(1);
		MemcachedSession session = this.repository.findById(id);
		// the first dispatch ends: Spring Session's filter saves, taking the snapshot first
		SessionChanges firstDispatch = session.changes();
		// meanwhile, on the async thread: a read-modify-write of the counter
		session.setAttribute("counter", (Integer) session.getAttribute("counter") + 1);
		// the first dispatch's save completes
		this.repository.save(session, firstDispatch);

		this.repository.save(session); // the async dispatch's commit

		assertThat((Integer) this.repository.findById(id).getAttribute("counter")).isEqualTo(2);
	}

	@Test
	void save_WhenTheAsyncThreadRemovesAnAttributeDuringTheFirstDispatchsSave_ShouldRemoveItOnTheAsyncDispatchsSave() {
		String id = storedCounter(1);
		MemcachedSession session = this.repository.findById(id);
		SessionChanges firstDispatch = session.changes();
		session.removeAttribute("counter");
		this.repository.save(session, firstDispatch);

		this.repository.save(session);

		assertThat(this.repository.findById(id).getAttributeNames()).doesNotContain("counter");
	}

	@Test
	void save_WithoutChangesSinceTheLastSave_ShouldTakeAnEmptySnapshot() {
		String id = storedCounter(1);
		MemcachedSession session = this.repository.findById(id);
		session.setAttribute("counter", 2);
		this.repository.save(session);

		assertThat(session.changes().hasEdits()).as("a save without changes writes no attribute").isFalse();
	}

	private String storedCounter(int value) {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("counter", value);
		this.repository.save(session);
		return session.getId();
	}

}
