package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.storage.WriteResult;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.session.storage.StoredValue;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * Writes sessions to their primary node and mirrors every write to the backup node.
 *
 * <p>
 * The primary write is synchronous; the backup write is queued (or awaited with
 * {@code backupAsync=false}). Items live longer in memcached than the session does, so a
 * request never meets an item that memcached dropped a moment before the session expired
 * (spring-session #2786): the data item lives twice the max-inactive interval, so a
 * read-only request needs to {@code touch} it only about once per interval, and the
 * validity item lives the interval plus a grace period.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class SessionWriter {

	private static final Log logger = LogFactory.getLog(SessionWriter.class);

	static final Duration GRACE = Duration.ofSeconds(60);

	private static final int MERGE_ATTEMPTS = 5;

	/** Room memcached needs beside the value inside one item (header, key, flags). */
	private static final int ITEM_OVERHEAD = 64;

	private final MemcachedStore store;

	private final NodeRing ring;

	SessionKeys keys = new SessionKeys("");

	SessionMetrics metrics = SessionMetrics.none();

	AttributeCodec codec;

	boolean backupAsync = true;

	int maxItemSize = 1024 * 1024;

	SessionWriter(MemcachedStore store, NodeRing ring, AttributeCodec codec) {
		this.store = store;
		this.ring = ring;
		this.codec = codec;
	}

	/**
	 * A session never stored before, or stored under an id it no longer has. For a
	 * changed id the old items are deleted first; if another request already deleted or
	 * renamed them, the session is not stored under the new id either, so a concurrent
	 * logout or id change is never undone.
	 */
	void writeWhole(MemcachedSession session, MemcachedNode node) {
		Instant now = Instant.now();
		Map<String, byte[]> attributes = session.allAttributes(session.changedAttributes());
		long expiresAt = dataExpiresAt(session, now);
		byte[] bytes = SessionCodec.encodeData(this.codec.serializerId(), session.times(expiresAt), attributes);
		String key = this.keys.data(session.getId());
		if (isOversize(session.getId(), key, bytes)) {
			return;
		}
		String oldId = session.storedId();
		if (oldId != null && delete(oldId, node) == WriteResult.NOT_FOUND) {
			logger.debug("Session " + oldId + " was deleted or renamed by another request; not storing it as "
					+ session.getId());
			session.markSaved(attributes, expiresAt, 0);
			return;
		}
		int expiration = MemcachedExpiration.of(dataLifetime(session), now);
		if (!this.store.set(node, key, expiration, bytes)) {
			this.metrics.writeFailure();
			return;
		}
		backupSet(node, key, expiration, bytes);
		session.markSaved(attributes, expiresAt, 0);
	}

	/**
	 * Writes changed attributes (or a changed interval) of a stored session. The write is a
	 * compare-and-set against the version the request read; when another request wrote
	 * in between, this request's changes are applied on top of that version, so
	 * concurrent requests that change different attributes keep both changes. A session
	 * deleted meanwhile stays deleted.
	 */
	void writeChanges(MemcachedSession session, MemcachedNode node, Map<String, byte[]> changed) {
		Instant now = Instant.now();
		String key = this.keys.data(session.getId());
		long expiresAt = dataExpiresAt(session, now);
		int expiration = MemcachedExpiration.of(dataLifetime(session), now);
		Map<String, byte[]> attributes = session.allAttributes(changed);
		byte[] bytes = SessionCodec.encodeData(this.codec.serializerId(), session.times(expiresAt), attributes);
		long cas = session.cas();
		for (int attempt = 0; attempt < MERGE_ATTEMPTS; attempt++) {
			if (isOversize(session.getId(), key, bytes)) {
				return;
			}
			WriteResult result = (cas != 0) ? this.store.cas(node, key, cas, expiration, bytes) : WriteResult.CONFLICT;
			if (result == WriteResult.OK) {
				backupSet(node, key, expiration, bytes);
				session.markSaved(changed, expiresAt, 0);
				return;
			}
			if (result == WriteResult.FAILED) {
				this.metrics.writeFailure();
				return;
			}
			StoredValue current = (result == WriteResult.CONFLICT) ? this.store.get(node, key) : null;
			if (current == null) {
				logger.debug("Session " + session.getId() + " was deleted by another request; not writing it back");
				session.markSaved(changed, expiresAt, 0);
				return;
			}
			this.metrics.conflict();
			bytes = merge(session, current.bytes(), changed, expiresAt);
			if (bytes == null) {
				return;
			}
			cas = current.cas();
		}
		logger.warn("Session " + session.getId() + " kept changing under concurrent requests; changes of this request to "
				+ changed.keySet() + " were not stored");
	}

	private byte @Nullable [] merge(MemcachedSession session, byte[] current, Map<String, byte[]> changed,
			long expiresAt) {
		SessionCodec.Data stored;
		try {
			stored = SessionCodec.decodeData(current);
		}
		catch (SessionCodec.CorruptSessionException ex) {
			logger.warn("Session " + session.getId() + " holds corrupt data; not merging into it");
			return null;
		}
		Map<String, byte[]> merged = new LinkedHashMap<>(stored.attributes());
		merged.putAll(changed);
		session.removedAttributes().forEach(merged::remove);
		SessionCodec.Times ours = session.times(expiresAt);
		SessionCodec.Times times = ours.newer(stored.times());
		if (session.isMaxInactiveIntervalChanged()) {
			times = new SessionCodec.Times(times.creationTime(), times.lastAccessedTime(),
					session.getMaxInactiveInterval(), expiresAt);
		}
		return SessionCodec.encodeData(this.codec.serializerId(), times, merged);
	}

	/**
	 * Records a read-only access: a 26-byte validity write, and a {@code touch} of the data
	 * (queued) only when its memcached lifetime would end before the session's.
	 */
	void writeAccess(MemcachedSession session, MemcachedNode node) {
		Instant now = Instant.now();
		String id = session.getId();
		long expiresAt = session.dataExpiresAt();
		if (!session.neverExpires() && expiresAt < session.getLastAccessedTime()
			.plus(session.getMaxInactiveInterval())
			.plus(GRACE)
			.getEpochSecond()) {
			expiresAt = dataExpiresAt(session, now);
			int dataExpiration = MemcachedExpiration.of(dataLifetime(session), now);
			String dataKey = this.keys.data(id);
			this.store.touchAsync(node, dataKey, dataExpiration);
			MemcachedNode backup = this.ring.backupOf(node);
			if (backup != null) {
				this.store.touchAsync(backup, SessionKeys.backup(dataKey), dataExpiration);
			}
		}
		byte[] validity = SessionCodec.encodeValidity(session.times(expiresAt));
		String key = this.keys.validity(id);
		int expiration = MemcachedExpiration.of(validityLifetime(session), now);
		if (!this.store.set(node, key, expiration, validity)) {
			this.metrics.writeFailure();
			return;
		}
		backupSet(node, key, expiration, validity);
		session.markAccessSaved(expiresAt);
	}

	/**
	 * Deletes a session's items on its primary and backup node.
	 * @return what became of the data item on the primary
	 */
	WriteResult delete(String id, MemcachedNode node) {
		String dataKey = this.keys.data(id);
		String validityKey = this.keys.validity(id);
		this.store.deleteAsync(node, validityKey);
		WriteResult result = this.store.delete(node, dataKey);
		MemcachedNode backup = this.ring.backupOf(node);
		if (backup != null) {
			this.store.deleteAsync(backup, SessionKeys.backup(validityKey));
			this.store.deleteAsync(backup, SessionKeys.backup(dataKey));
		}
		return result;
	}

	/** Deletes without waiting, for sessions found expired or unreadable. */
	void deleteAsync(String id, MemcachedNode node) {
		for (String key : new String[] { this.keys.data(id), this.keys.validity(id) }) {
			this.store.deleteAsync(node, key);
			MemcachedNode backup = this.ring.backupOf(node);
			if (backup != null) {
				this.store.deleteAsync(backup, SessionKeys.backup(key));
			}
		}
	}

	private void backupSet(MemcachedNode primary, String key, int expiration, byte[] bytes) {
		MemcachedNode backup = this.ring.backupOf(primary);
		if (backup == null) {
			return;
		}
		if (this.backupAsync) {
			this.store.setAsync(backup, SessionKeys.backup(key), expiration, bytes);
		}
		else if (!this.store.set(backup, SessionKeys.backup(key), expiration, bytes)) {
			this.metrics.writeFailure();
		}
	}

	private boolean isOversize(String id, String key, byte[] bytes) {
		if (bytes.length + key.length() + ITEM_OVERHEAD <= this.maxItemSize) {
			return false;
		}
		this.metrics.oversize();
		logger.warn("Session " + id + " is " + bytes.length + " bytes, over msm.max-item-size (" + this.maxItemSize
				+ " bytes): this write is skipped, the stored version (if any) stays as it was");
		return true;
	}

	private static Duration dataLifetime(MemcachedSession session) {
		return session.neverExpires() ? Duration.ZERO : session.getMaxInactiveInterval().multipliedBy(2).plus(GRACE);
	}

	private static Duration validityLifetime(MemcachedSession session) {
		return session.neverExpires() ? Duration.ZERO : session.getMaxInactiveInterval().plus(GRACE);
	}

	private static long dataExpiresAt(MemcachedSession session, Instant now) {
		return session.neverExpires() ? Long.MAX_VALUE : now.plus(dataLifetime(session)).getEpochSecond();
	}


}
