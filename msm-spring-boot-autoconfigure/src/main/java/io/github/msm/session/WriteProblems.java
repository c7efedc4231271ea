package io.github.msm.session;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import io.github.msm.session.log.SessionIdTag;

/**
 * Reports the changes a save could not store — refused as too large, failed on a node,
 * or discarded because another request deleted or renamed the session — so that none is
 * ever dropped silently: each is counted and logged with the session id and what it
 * changed.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class WriteProblems {

	private static final Log logger = LogFactory.getLog(WriteProblems.class);

	private static final IncidentLog incidents = new IncidentLog(logger, IncidentLog.DEFAULT_INTERVAL);

	/** Room memcached needs beside the value inside one item (header, key, flags). */
	private static final int ITEM_OVERHEAD = 64;

	/**
	 * Set while sticky mode saves: whether a change failed to reach memcached (not
	 * "gone", not oversize), so that sticky mode keeps it pending instead of dropping its
	 * only current copy, and whether memcached had nothing under the id (no tombstone
	 * either), so that sticky mode writes its copy back instead of taking it as a logout.
	 */
	private static final ThreadLocal<Watched> WATCHED = new ThreadLocal<>();

	/** What went wrong during a watched save. */
	static final class Watched {

		private boolean failed;

		private boolean absent;

		/**
		 * Whether a change could not be stored because memcached did not take it (a node
		 * failed or timed out, no node was up, or the deadline passed): a change that may
		 * succeed if written again later.
		 */
		boolean failed() {
			return this.failed;
		}

		/**
		 * Whether a change was not stored because memcached had nothing under the id: no
		 * session and no tombstone (expired, evicted, or the node restarted empty).
		 */
		boolean absent() {
			return this.absent;
		}

	}

	private final SessionMetrics metrics;

	private final int maxItemSize;

	WriteProblems(SessionMetrics metrics, int maxItemSize) {
		this.metrics = metrics;
		this.maxItemSize = maxItemSize;
	}

	/**
	 * The session was deleted (logout, expiry) or renamed (login) by another request after
	 * this one read it: its change is not written back, so the deleted session stays
	 * deleted and the old id of a renamed one stays dead. This is the intended outcome of
	 * such a race, so it is counted and logged at INFO, not as a failure.
	 * @param tombstone whether a tombstone was found (deleted or renamed) rather than
	 * nothing (deleted, expired or evicted)
	 */
	@Nullable StoredSession gone(SessionChanges changes, boolean tombstone) {
		Watched watched = WATCHED.get();
		if (watched != null && !tombstone) {
			// sticky mode writes its copy back, or reports the change with gone() itself
			watched.absent = true;
			return null;
		}
		if (!changes.hasEdits()) {
			return null;
		}
		this.metrics.discarded(tombstone);
		logger.info("Session " + SessionIdTag.of(changes.id()) + ": change of " + changes.describe()
				+ " was not stored: the session"
				+ " was logged out, expired or renamed (login) by another request meanwhile");
		return null;
	}

	/**
	 * A stand-in, written while no node could be read, set attributes the stored session
	 * also has: those blind writes do not replace what was stored before the outage.
	 * @param id the session id
	 * @param names the attributes not written
	 */
	void superseded(String id, java.util.Set<String> names) {
		this.metrics.superseded();
		logger.info("Session " + SessionIdTag.of(id) + ": attributes " + names + " set while no memcached node could be read were"
				+ " not stored: the session's stored values, which that request could not see, are kept");
	}

	/**
	 * Runs a save and answers what kept a change of it from being stored: memcached did
	 * not take it ({@link Watched#failed()}), or had nothing under the id
	 * ({@link Watched#absent()}).
	 */
	static Watched watch(Runnable save) {
		Watched watched = new Watched();
		Watched outer = WATCHED.get();
		WATCHED.set(watched);
		try {
			save.run();
		}
		finally {
			WATCHED.set(outer);
		}
		return watched;
	}

	@Nullable StoredSession failed(SessionChanges changes, String reason) {
		Watched watched = WATCHED.get();
		if (watched != null) {
			watched.failed = true;
		}
		this.metrics.writeFailure();
		incidents.warn("write-failed", () -> "Session " + SessionIdTag.of(changes.id()) + ": change of " + changes.describe()
				+ " was not stored: " + reason);
		return null;
	}

	boolean isOversize(String id, String key, byte[] bytes) {
		int maxItemSize = this.maxItemSize;
		this.metrics.sessionSize(bytes.length);
		if (bytes.length + key.length() + ITEM_OVERHEAD <= maxItemSize) {
			return false;
		}
		this.metrics.oversize();
		incidents.warn("too-large", () -> "Session " + SessionIdTag.of(id) + " is " + bytes.length + " bytes, over msm.max-item-size ("
				+ maxItemSize + " bytes): this write is skipped, the stored version (if any) stays as it was");
		return true;
	}
}
