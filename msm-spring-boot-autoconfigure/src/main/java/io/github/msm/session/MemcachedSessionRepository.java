package io.github.msm.session;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

import io.github.msm.session.SessionReader.Read;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.serializer.SessionSerializer;
import io.github.msm.session.storage.MemcachedStore;
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
 * one pipelined round trip to one node. A request that only reads its session writes
 * nothing most of the time: its access is written, queued, only when the stored expiry
 * no longer covers it (see {@link SessionLifetime}). A request that changes the session
 * writes it once, as a compare-and-set that merges with concurrent writers and retries
 * until a deadline. Spring Session saves twice per request; the second save of an
 * unchanged session costs nothing.
 *
 * <p>
 * Ids from cookies are checked against {@link SessionIdFormat} before any memcached
 * call. Corrupt stored bytes read as a missing session; an unreadable attribute reads as
 * absent and stays stored. Neither ever fails a request.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public class MemcachedSessionRepository implements SessionRepository<MemcachedSession> {

	/** The default write window: 1/8 of the max-inactive interval. */
	public static final double DEFAULT_ACCESS_WRITE_FRACTION = 0.125;

	private final MemcachedStore store;

	private final NodeRing ring;

	private final SessionIdFormat idFormat;

	private final SessionSerializer serializer;

	private SessionKeys keys = new SessionKeys("");

	private SessionMetrics metrics = SessionMetrics.none();

	private boolean backupAsync = true;

	private int maxItemSize = 1024 * 1024;

	private Clock clock = Clock.systemUTC();

	private double accessWriteFraction = DEFAULT_ACCESS_WRITE_FRACTION;

	private Duration defaultMaxInactiveInterval = MapSession.DEFAULT_MAX_INACTIVE_INTERVAL;

	private volatile @Nullable Parts parts;

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
		reset();
	}

	/**
	 * Set whether backup writes are queued rather than awaited. Queued writes keep the
	 * backup node's latency out of the request; awaited ones make a write that returns
	 * survive the primary's death at once.
	 * @param backupAsync whether to queue backup writes (default {@code true})
	 */
	public void setBackupAsync(boolean backupAsync) {
		this.backupAsync = backupAsync;
		reset();
	}

	/**
	 * Set the largest item memcached takes (its {@code -I}, 1 MiB by default). Larger
	 * sessions are not sent: the node would refuse them anyway.
	 * @param maxItemSize bytes
	 */
	public void setMaxItemSize(int maxItemSize) {
		Assert.isTrue(maxItemSize >= 1024, "maxItemSize must be at least 1024 bytes");
		this.maxItemSize = maxItemSize;
		reset();
	}

	/**
	 * Set where the store's counters go.
	 * @param metrics the metrics
	 */
	public void setMetrics(SessionMetrics metrics) {
		Assert.notNull(metrics, "metrics must not be null");
		this.metrics = metrics;
		reset();
	}

	/**
	 * Set the clock that access times and expiry are measured with.
	 * @param clock the clock (default: the system clock)
	 */
	public void setClock(Clock clock) {
		Assert.notNull(clock, "clock must not be null");
		this.clock = clock;
		reset();
	}

	/**
	 * Set how often a request that only reads its session writes its access time: when
	 * the stored one is older than this fraction of the max-inactive interval. A session
	 * then never expires earlier than its interval after the last access, and at most
	 * this fraction of it later.
	 * @param accessWriteFraction from 0 (write every access) to 0.5; default 0.125
	 */
	public void setAccessWriteFraction(double accessWriteFraction) {
		Assert.isTrue(accessWriteFraction >= 0 && accessWriteFraction <= 0.5,
				() -> "accessWriteFraction " + accessWriteFraction + " must be between 0 and 0.5");
		this.accessWriteFraction = accessWriteFraction;
		reset();
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
		Parts parts = parts();
		String id = this.idFormat.newId(this.ring.nodeForNewSession());
		return new MemcachedSession(id, this.defaultMaxInactiveInterval, this.idFormat, parts.codec, parts.lifetime);
	}

	@Override
	public void save(MemcachedSession session) {
		MemcachedNode node = this.idFormat.nodeOf(session.getId());
		Assert.state(node != null, () -> "Session id " + session.getId() + " was not made by this repository");
		SessionChanges changes = session.changes();
		session.saved(changes, parts().writer.save(changes, node));
		if (changes.isRenamed()) {
			RequestSessionMemo.remember(changes.storedId(), null);
			RequestSessionMemo.remember(session.getId(), session);
		}
		else if (changes.isNew()) {
			RequestSessionMemo.remember(session.getId(), session);
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
		Parts parts = parts();
		Read read = parts.reader.read(id, node);
		switch (read.status()) {
			case FOUND:
				break;
			case CORRUPT:
				this.metrics.unreadableSession();
				parts.writer.deleteAsync(id, node);
				return null;
			case FOREIGN:
				this.metrics.unreadableSession();
				return null;
			default:
				return null;
		}
		StoredSession stored = read.session();
		if (parts.lifetime.isExpired(stored.data().maxInactiveInterval(), stored.access())) {
			parts.writer.deleteAsync(id, node);
			return null;
		}
		return new MemcachedSession(id, stored, this.idFormat, parts.codec, parts.lifetime);
	}

	@Override
	public void deleteById(String id) {
		MemcachedNode node = this.idFormat.nodeOf(id);
		if (node == null) {
			return;
		}
		Optional<MemcachedSession> known = RequestSessionMemo.lookup(id);
		Duration interval = (known != null && known.isPresent()) ? known.get().getMaxInactiveInterval()
				: this.defaultMaxInactiveInterval;
		parts().writer.delete(id, node, interval);
		RequestSessionMemo.remember(id, null);
	}

	/**
	 * Waits until the backup writes queued so far have been sent, so that a test (or an
	 * operator draining a server) can count on the backup copies.
	 */
	public void awaitBackupWrites() {
		parts().backup.flush();
	}

	/** Writes the backup copies still queued (boundedly), then closes the connections. */
	public void shutdown() {
		Parts parts = this.parts;
		if (parts != null) {
			parts.backup.close();
		}
		this.store.close();
	}

	private Parts parts() {
		Parts parts = this.parts;
		if (parts == null) {
			synchronized (this) {
				parts = this.parts;
				if (parts == null) {
					parts = new Parts(this);
					this.parts = parts;
				}
			}
		}
		return parts;
	}

	private synchronized void reset() {
		Parts parts = this.parts;
		this.parts = null;
		if (parts != null) {
			parts.backup.close();
		}
	}

	/**
	 * The collaborators built from the settings, once the repository is in use. Setters
	 * only run while the application is configured, before the first request.
	 */
	private static final class Parts {

		final AttributeCodec codec;

		final SessionLifetime lifetime;

		final SessionReader reader;

		final BackupWriter backup;

		final SessionWriter writer;

		Parts(MemcachedSessionRepository repository) {
			this.codec = new AttributeCodec(repository.serializer, repository.metrics);
			this.lifetime = new SessionLifetime(repository.clock, repository.accessWriteFraction);
			this.reader = new SessionReader(repository.store, repository.keys, repository.serializer.id());
			this.backup = new BackupWriter(repository.store, repository.backupAsync, repository.metrics);
			SessionWriter.Settings settings = new SessionWriter.Settings(repository.keys, repository.metrics,
					repository.serializer.id(), repository.maxItemSize,
					repository.store.operationTimeout().multipliedBy(3));
			this.writer = new SessionWriter(repository.store, repository.ring, this.lifetime, this.reader, this.backup,
					settings);
		}

	}

}
