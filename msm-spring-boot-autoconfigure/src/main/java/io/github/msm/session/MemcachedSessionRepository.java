package io.github.msm.session;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.serializer.SessionSerializer;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.session.storage.StoredValue;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.session.MapSession;
import org.springframework.session.SessionRepository;
import org.springframework.util.Assert;

/**
 * A {@link SessionRepository} that keeps sessions in memcached, each on its primary node
 * with a backup copy on the next node of the ring (non-sticky mode: memcached is the
 * source of truth).
 *
 * <p>
 * The node is part of the session id ({@code <32 hex>-n1}), so finding a session costs
 * one round trip to one node. A request that only reads its session writes 26 bytes of
 * access metadata; a request that changes it writes the session once, as a
 * compare-and-set that merges with concurrent writers. Spring Session saves twice per
 * request; the second save of an unchanged session costs nothing.
 *
 * <p>
 * Ids from cookies are checked against {@link SessionIdFormat} before any memcached
 * call. Corrupt stored bytes read as a missing session; an unreadable attribute reads as
 * absent. Neither ever fails a request.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public class MemcachedSessionRepository implements SessionRepository<MemcachedSession> {

	private static final Log logger = LogFactory.getLog(MemcachedSessionRepository.class);

	private final MemcachedStore store;

	private final NodeRing ring;

	private final SessionIdFormat idFormat;

	private final SessionSerializer serializer;

	private final SessionWriter writer;

	private SessionKeys keys = new SessionKeys("");

	private SessionMetrics metrics = SessionMetrics.none();

	private AttributeCodec codec;

	private Duration defaultMaxInactiveInterval = MapSession.DEFAULT_MAX_INACTIVE_INTERVAL;

	/** The configured item size last lowered to the servers' one, to warn once. */
	private int cappedMaxItemSize;

	/**
	 * Create a repository.
	 * @param store the memcached access, connected to every node of the ring
	 * @param ring the nodes
	 * @param serializer serializes attribute values
	 */
	public MemcachedSessionRepository(MemcachedStore store, NodeRing ring, SessionSerializer serializer) {
		Assert.notNull(store, "store must not be null");
		Assert.notNull(ring, "ring must not be null");
		Assert.notNull(serializer, "serializer must not be null");
		this.store = store;
		this.ring = ring;
		this.idFormat = new SessionIdFormat(ring);
		this.serializer = serializer;
		this.codec = new AttributeCodec(serializer, this.metrics);
		this.writer = new SessionWriter(store, ring, this.codec);
		this.writer.maxItemSize = capToServerItemSize(this.writer.maxItemSize);
	}

	/**
	 * Set the max-inactive interval of new sessions. Zero or negative: never expire.
	 * @param defaultMaxInactiveInterval the interval
	 */
	public void setDefaultMaxInactiveInterval(Duration defaultMaxInactiveInterval) {
		Assert.notNull(defaultMaxInactiveInterval, "defaultMaxInactiveInterval must not be null");
		this.defaultMaxInactiveInterval = defaultMaxInactiveInterval;
	}

	/**
	 * Set a prefix for every key, to share memcached nodes between applications.
	 * @param keyPrefix printable ASCII, no spaces, at most 100 characters
	 */
	public void setKeyPrefix(String keyPrefix) {
		Assert.notNull(keyPrefix, "keyPrefix must not be null");
		this.keys = new SessionKeys(keyPrefix);
		this.writer.keys = this.keys;
	}

	/**
	 * Set whether backup writes are queued rather than awaited. Queued writes keep the
	 * backup node's latency out of the request; awaited ones make a write that returns
	 * survive the primary's death at once.
	 * @param backupAsync whether to queue backup writes (default {@code true})
	 */
	public void setBackupAsync(boolean backupAsync) {
		this.writer.backupAsync = backupAsync;
	}

	/**
	 * Set the largest item memcached takes (its {@code -I}, 1 MiB by default). Larger
	 * sessions are not sent: the node would refuse them anyway. A value above the
	 * smallest {@code item_size_max} that the nodes reported is lowered to it.
	 * @param maxItemSize bytes
	 */
	public void setMaxItemSize(int maxItemSize) {
		Assert.isTrue(maxItemSize >= 1024, "maxItemSize must be at least 1024 bytes");
		this.writer.maxItemSize = capToServerItemSize(maxItemSize);
	}

	/**
	 * Lower an item size to what the nodes reported they take. A session the node refuses
	 * is lost either way, but over the text protocol the refusal also drops the connection
	 * with the commands queued on it, so it must never be sent.
	 */
	private int capToServerItemSize(int maxItemSize) {
		OptionalInt reported = this.store.serverItemSizeMax();
		if (reported.isEmpty() || maxItemSize <= reported.getAsInt()) {
			return maxItemSize;
		}
		if (maxItemSize != this.cappedMaxItemSize) {
			this.cappedMaxItemSize = maxItemSize;
			logger.warn("msm.max-item-size (" + maxItemSize + " bytes) is larger than the item_size_max memcached"
					+ " reports (" + reported.getAsInt() + " bytes, its -I); using " + reported.getAsInt()
					+ " bytes, so that larger sessions are refused before they are sent");
		}
		return reported.getAsInt();
	}

	/**
	 * Set where the store's counters go.
	 * @param metrics the metrics
	 */
	public void setMetrics(SessionMetrics metrics) {
		Assert.notNull(metrics, "metrics must not be null");
		this.metrics = metrics;
		this.codec = new AttributeCodec(this.serializer, metrics);
		this.writer.metrics = metrics;
		this.writer.codec = this.codec;
	}

	/**
	 * The node a session id points at, as shown to users and operators.
	 * @param sessionId any string
	 * @return the node id, or {@code null} if the id is not one of this store's ids or ids
	 * carry no node (a single node given as plain {@code host:port})
	 */
	public @Nullable String nodeIdOf(String sessionId) {
		MemcachedNode node = this.idFormat.nodeOf(sessionId);
		return (node != null && this.ring.isNodeIdInSessionId()) ? node.id() : null;
	}

	@Override
	public MemcachedSession createSession() {
		String id = this.idFormat.newId(this.ring.nodeForNewSession());
		return new MemcachedSession(id, this.defaultMaxInactiveInterval, this.idFormat, this.codec);
	}

	@Override
	public void save(MemcachedSession session) {
		MemcachedNode node = this.idFormat.nodeOf(session.getId());
		Assert.state(node != null, () -> "Session id " + session.getId() + " was not made by this repository");
		if (session.isNew() || !session.getId().equals(session.storedId())) {
			String oldId = session.storedId();
			this.writer.writeWhole(session, node);
			if (oldId != null && !oldId.equals(session.getId())) {
				RequestSessionMemo.remember(oldId, null);
			}
			RequestSessionMemo.remember(session.getId(), session);
			return;
		}
		Map<String, byte[]> changed = session.changedAttributes();
		if (!changed.isEmpty() || !session.removedAttributes().isEmpty() || session.isMaxInactiveIntervalChanged()) {
			this.writer.writeChanges(session, node, changed);
		}
		else if (session.isLastAccessedTimeChanged()) {
			this.writer.writeAccess(session, node);
		}
	}

	@Override
	public @Nullable MemcachedSession findById(String id) {
		MemcachedNode node = this.idFormat.nodeOf(id);
		if (node == null) {
			return null;
		}
		Optional<MemcachedSession> known = RequestSessionMemo.lookup(id);
		if (known != null) {
			return known.orElse(null);
		}
		MemcachedSession session = load(id, node);
		RequestSessionMemo.remember(id, session);
		return session;
	}

	private @Nullable MemcachedSession load(String id, MemcachedNode node) {
		String dataKey = this.keys.data(id);
		String validityKey = this.keys.validity(id);
		Map<String, StoredValue> found = this.store.getAll(node, List.of(dataKey, validityKey));
		StoredValue data = found.get(dataKey);
		if (data == null) {
			return null;
		}
		MemcachedSession session;
		try {
			session = decode(id, data, found.get(validityKey));
		}
		catch (SessionCodec.CorruptSessionException ex) {
			logger.warn("Session " + id + " holds bytes that are not a readable session (" + ex.getMessage()
					+ "): treated as missing and removed");
			this.metrics.unreadableSession();
			this.writer.deleteAsync(id, node);
			return null;
		}
		if (session == null) {
			this.metrics.unreadableSession();
			return null;
		}
		if (session.isExpired()) {
			this.writer.deleteAsync(id, node);
			return null;
		}
		return session;
	}

	/**
	 * Reads the stored items. A session written with another serializer (servers that
	 * disagree on {@code msm.serializer}) reads as missing but is left in place for the
	 * servers that can read it; a corrupt validity item is ignored, the data item alone
	 * still makes the session.
	 * @throws SessionCodec.CorruptSessionException if the data item is corrupt
	 */
	private @Nullable MemcachedSession decode(String id, StoredValue data, @Nullable StoredValue validity) {
		SessionCodec.Data decoded = SessionCodec.decodeData(data.bytes());
		if (decoded.serializerId() != this.serializer.id()) {
			logger.warn("Session " + id + " was written with serializer " + decoded.serializerId()
					+ ", this server uses " + this.serializer.id() + " (msm.serializer): treated as missing");
			return null;
		}
		SessionCodec.Times times = decoded.times();
		if (validity != null) {
			try {
				times = times.newer(SessionCodec.decodeValidity(validity.bytes(), times.creationTime()));
			}
			catch (SessionCodec.CorruptSessionException ex) {
				logger.warn("Session " + id + " has a corrupt validity item; using the data item's access time");
			}
		}
		return new MemcachedSession(id, times, decoded.attributes(), data.cas(), this.idFormat, this.codec);
	}

	@Override
	public void deleteById(String id) {
		MemcachedNode node = this.idFormat.nodeOf(id);
		if (node != null) {
			this.writer.delete(id, node);
			RequestSessionMemo.remember(id, null);
		}
	}

	/** Closes the memcached connections. */
	public void shutdown() {
		this.store.close();
	}

}
