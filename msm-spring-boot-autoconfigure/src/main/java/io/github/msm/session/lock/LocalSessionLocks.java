package io.github.msm.session.lock;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;

/**
 * Queues the requests of one session inside this JVM, first come first served: in sticky
 * mode that is the session's lock; in non-sticky mode it lets only one of them at a time
 * poll memcached for the session's lock item. Keyed by the session's base, so requests
 * carrying different ids of one session queue together.
 *
 * <p>
 * A permit, not a {@code ReentrantLock}: an async request releases it on another thread
 * than the one that took it. An entry lives only while a request holds or waits for it,
 * so memory is bounded by the number of requests in flight.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class LocalSessionLocks {

	private final Map<String, Entry> entries = new ConcurrentHashMap<>();

	/**
	 * Waits for the session's permit.
	 * @param id the session's base (or any key naming the session)
	 * @param timeoutNanos how long to wait at most
	 * @return the permit, or {@code null} when the wait timed out or was interrupted
	 */
	@Nullable Permit acquire(String id, long timeoutNanos) {
		Entry entry = this.entries.compute(id, (key, existing) -> {
			Entry joined = (existing != null) ? existing : new Entry();
			joined.users++;
			return joined;
		});
		boolean acquired = false;
		try {
			acquired = entry.semaphore.tryAcquire(Math.max(0, timeoutNanos), TimeUnit.NANOSECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		if (!acquired) {
			leave(id);
			return null;
		}
		return new Permit(id, entry);
	}

	/** Number of sessions with a request holding or waiting for a permit (for tests). */
	int size() {
		return this.entries.size();
	}

	private void leave(String id) {
		this.entries.computeIfPresent(id, (key, entry) -> (--entry.users == 0) ? null : entry);
	}

	private static final class Entry {

		final Semaphore semaphore = new Semaphore(1, true);

		int users;

	}

	/** A held permit; {@link #release()} hands it to the next waiting request. */
	final class Permit {

		private final String id;

		private final Entry entry;

		private Permit(String id, Entry entry) {
			this.id = id;
			this.entry = entry;
		}

		void release() {
			this.entry.semaphore.release();
			leave(this.id);
		}

	}

}
