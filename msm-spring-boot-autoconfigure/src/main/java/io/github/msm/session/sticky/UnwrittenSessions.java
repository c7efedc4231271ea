package io.github.msm.session.sticky;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import io.github.msm.session.LocalCopy;
import io.github.msm.session.log.SessionIdTag;
import io.github.msm.session.StickyAccess;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * Sessions whose changes memcached did not take: every node was down, or hung before it
 * was marked down, or the write's deadline passed. In sticky mode the local copy is then
 * the only current one, so it keeps the change as pending (like a queued write) instead
 * of being dropped or handed to the non-sticky local fallback (which would keep it away
 * from memcached for good). The change is written with the session's next change, by a
 * background retry every {@value #RETRY_SECONDS} s, and at shutdown. A round of retries
 * stops at the first write memcached still does not take, so an outage costs one timeout
 * per round, not one per session.
 *
 * <p>
 * A local copy with unwritten changes that is evicted for space is held here until it is
 * written, and given back to the cache at its session's next request.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class UnwrittenSessions implements AutoCloseable {

	static final int RETRY_SECONDS = 2;

	private static final Log logger = LogFactory.getLog(UnwrittenSessions.class);

	private final Set<String> held = ConcurrentHashMap.newKeySet();

	private final Map<String, LocalCopy> evicted = new ConcurrentHashMap<>();

	private final StickyAccess access;

	/** Writes a session held in the cache, by id; {@code false} when memcached still does not take it. */
	private final Predicate<String> writer;

	private @Nullable ScheduledExecutorService retrier;

	private volatile boolean closed;

	UnwrittenSessions(StickyAccess access, Predicate<String> writer) {
		this.access = access;
		this.writer = writer;
	}

	/** A session held in the cache has changes memcached did not take. */
	void add(String id) {
		if (this.held.add(id)) {
			logger.warn("Session " + SessionIdTag.of(id) + ": memcached did not take its change; it is kept in this server's"
					+ " memory and written once a node answers");
		}
		startRetries();
	}

	/** Writes a local copy evicted for space with pending changes; holds it if memcached does not take it. */
	void writeEvicted(LocalCopy copy) {
		if (this.access.write(copy) == copy && copy.isPending()) {
			this.evicted.put(copy.id(), copy);
			startRetries();
		}
	}

	/** A single daemon thread for periodic work of sticky mode. */
	static ScheduledExecutorService daemonScheduler(String name) {
		return Executors.newSingleThreadScheduledExecutor((runnable) -> {
			Thread thread = new Thread(runnable, name);
			thread.setDaemon(true);
			return thread;
		});
	}

	/** The evicted copy of a session, with changes not written yet; it is the caller's now. */
	@Nullable LocalCopy takeEvicted(String id) {
		return this.evicted.isEmpty() ? null : this.evicted.remove(id);
	}

	/** Sessions whose changes memcached has not taken yet. */
	int size() {
		return this.held.size() + this.evicted.size();
	}

	/**
	 * Tries to write every session held here, stopping at the first that memcached still
	 * does not take.
	 * @return whether none is left
	 */
	boolean retry() {
		int before = size();
		for (String id : this.held) {
			this.held.remove(id);
			if (!this.writer.test(id)) {
				this.held.add(id);
				return false;
			}
		}
		for (LocalCopy copy : this.evicted.values()) {
			if (this.access.write(copy) == copy && copy.isPending()) {
				return false;
			}
			this.evicted.remove(copy.id(), copy);
		}
		if (before > 0 && size() == 0) {
			logger.info("Changes of " + before + " session(s) that memcached did not take are written now");
		}
		return size() == 0;
	}

	private synchronized void startRetries() {
		if (this.retrier != null || this.closed) {
			return;
		}
		ScheduledExecutorService retrier = daemonScheduler("msm-sticky-retry");
		retrier.scheduleWithFixedDelay(() -> {
			try {
				retry();
			}
			catch (RuntimeException ex) {
				logger.warn("Retrying unwritten session changes failed", ex);
			}
		}, RETRY_SECONDS, RETRY_SECONDS, TimeUnit.SECONDS);
		this.retrier = retrier;
	}

	/** Stops the retries; {@link #retry()} still works (the shutdown flush calls it). */
	@Override
	public synchronized void close() {
		this.closed = true;
		ScheduledExecutorService retrier = this.retrier;
		if (retrier != null) {
			retrier.shutdownNow();
			this.retrier = null;
		}
	}

	/** Logs what is still unwritten when the server stops: it is lost. */
	void reportLost() {
		if (size() > 0) {
			logger.error("Changes of " + size() + " session(s) were never taken by memcached and are lost at"
					+ " shutdown: " + SessionIdTag.of(this.held) + " " + SessionIdTag.of(this.evicted.keySet()));
		}
	}

}
