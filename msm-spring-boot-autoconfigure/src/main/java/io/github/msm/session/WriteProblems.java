package io.github.msm.session;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

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

	/** Room memcached needs beside the value inside one item (header, key, flags). */
	private static final int ITEM_OVERHEAD = 64;

	private final SessionMetrics metrics;

	private final int maxItemSize;

	WriteProblems(SessionMetrics metrics, int maxItemSize) {
		this.metrics = metrics;
		this.maxItemSize = maxItemSize;
	}

	/**
	 * The session was deleted (logout) or renamed (login) by another request after this
	 * one read it: its change is not written back, so the deleted session stays deleted
	 * and the old id of a renamed one stays dead. Counted, and logged.
	 */
	@Nullable StoredSession gone(SessionChanges changes, boolean renamed) {
		if (!changes.hasEdits()) {
			return null;
		}
		this.metrics.discarded(renamed);
		String message = "Session " + changes.id() + ": change of " + changes.describe() + " was not stored: the session"
				+ (renamed ? " was renamed (login) or moved" : " was deleted (logout or expiry)")
				+ " by another request meanwhile";
		if (renamed) {
			logger.warn(message);
		}
		else {
			logger.info(message);
		}
		return null;
	}

	@Nullable StoredSession failed(SessionChanges changes, String reason) {
		this.metrics.writeFailure();
		logger.warn("Session " + changes.id() + ": change of " + changes.describe() + " was not stored: " + reason);
		return null;
	}

	boolean isOversize(String id, String key, byte[] bytes) {
		int maxItemSize = this.maxItemSize;
		if (bytes.length + key.length() + ITEM_OVERHEAD <= maxItemSize) {
			return false;
		}
		this.metrics.oversize();
		logger.warn("Session " + id + " is " + bytes.length + " bytes, over msm.max-item-size (" + maxItemSize
				+ " bytes): this write is skipped, the stored version (if any) stays as it was");
		return true;
	}
}
