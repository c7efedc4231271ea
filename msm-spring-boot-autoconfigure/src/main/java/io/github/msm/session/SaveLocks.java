package io.github.msm.session;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import org.jspecify.annotations.Nullable;

/**
 * Serialises the saves of one session inside this JVM, so that concurrent requests of a
 * session on this server never race each other's compare-and-set: each save starts from
 * what the previous one wrote, handed over in {@link Held#lastWritten()}. Only writers on
 * other servers can still conflict.
 *
 * <p>
 * An entry lives only while some save of its session holds or waits for it, so memory
 * stays proportional to the saves in flight.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class SaveLocks {

	private final Map<String, Held> held = new ConcurrentHashMap<>();

	/**
	 * Waits for the session's lock.
	 * @param sessionId the id the session is stored under
	 * @param deadlineNanos {@link System#nanoTime()} after which to give up
	 * @return the held lock, to close after the save; {@code null} if the deadline passed
	 */
	@Nullable Held acquire(String sessionId, long deadlineNanos) {
		Held entry = this.held.compute(sessionId, (id, existing) -> {
			Held result = (existing != null) ? existing : new Held(id);
			result.users++;
			return result;
		});
		boolean locked;
		try {
			locked = entry.lock.tryLock(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			locked = false;
		}
		if (!locked) {
			leave(entry);
			return null;
		}
		return entry;
	}

	private void leave(Held entry) {
		this.held.compute(entry.sessionId, (id, existing) -> (existing == null || --existing.users == 0) ? null : existing);
	}

	/** Number of sessions with a save in flight, for tests. */
	int size() {
		return this.held.size();
	}

	/** The lock of one session, held by one save. */
	final class Held implements AutoCloseable {

		private final String sessionId;

		private final ReentrantLock lock = new ReentrantLock();

		private int users;

		private @Nullable StoredSession lastWritten;

		private Held(String sessionId) {
			this.sessionId = sessionId;
		}

		/** What the previous save of this session in this JVM wrote, if one is in flight. */
		@Nullable StoredSession lastWritten() {
			return this.lastWritten;
		}

		void written(@Nullable StoredSession stored) {
			this.lastWritten = stored;
		}

		@Override
		public void close() {
			this.lock.unlock();
			leave(this);
		}

	}

}
