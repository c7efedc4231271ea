package io.github.msm.session;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;

import io.github.msm.session.SessionReader.Read;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.serializer.SessionSerializer;
import io.github.msm.session.storage.MemcachedStore;
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

	/**
	 * The default bound of a backup lane's lag: far above what a healthy lane shows (one
	 * pipelined round trip, about a millisecond on a LAN), so requests do not wait in
	 * normal operation, and far below the seconds a lane without a bound fell behind.
	 */
	public static final Duration DEFAULT_BACKUP_MAX_LAG = Duration.ofMillis(100);

	private static final Log logger = LogFactory.getLog(MemcachedSessionRepository.class);

	private final MemcachedStore store;

	private final NodeRing ring;

	private SessionIdFormat idFormat;

	private final SessionSerializer serializer;

	private SessionKeys keys = new SessionKeys("");

	private SessionMetrics metrics = SessionMetrics.none();

	private boolean backupAsync = true;

	private Duration backupMaxLag = DEFAULT_BACKUP_MAX_LAG;

	private int maxItemSize = 1024 * 1024;

	private Clock clock = Clock.systemUTC();

	private double accessWriteFraction = DEFAULT_ACCESS_WRITE_FRACTION;

	private Duration defaultMaxInactiveInterval = MapSession.DEFAULT_MAX_INACTIVE_INTERVAL;

	private SessionSavePolicy savePolicy = SessionSavePolicy.DEFAULT;

	private volatile @Nullable RepositoryParts parts;

	private SessionLifecycleListener lifecycleListener = SessionLifecycleListener.NONE;

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
		this.maxItemSize = capToServerItemSize(this.maxItemSize);
	}

	/**
	 * Set the max-inactive interval of new sessions. Zero or negative: never expire.
	 * @param defaultMaxInactiveInterval the interval
	 */
	public void setDefaultMaxInactiveInterval(Duration defaultMaxInactiveInterval) {
		Assert.notNull(defaultMaxInactiveInterval, "defaultMaxInactiveInterval must not be null");
		this.defaultMaxInactiveInterval = (defaultMaxInactiveInterval.abs().compareTo(SessionLifetime.MAX_INTERVAL) > 0)
				? SessionLifetime.MAX_INTERVAL : defaultMaxInactiveInterval;
	}

	/**
	 * Set this server's route, appended to the ids of the sessions it creates
	 * ({@code <32 hex>-n1.app1}), so that a load balancer can keep each user on the server
	 * that holds the session in memory (sticky mode). Ids with any route are accepted.
	 * @param jvmRoute 1 to 32 of {@code [A-Za-z0-9_]}
	 */
	public void setJvmRoute(String jvmRoute) {
		Assert.isTrue(jvmRoute != null && SessionIdFormat.ROUTE.matcher(jvmRoute).matches(),
				() -> "jvmRoute '" + jvmRoute + "' must be 1 to 32 of [A-Za-z0-9_]");
		this.idFormat = new SessionIdFormat(this.ring, jvmRoute);
		reset();
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
	 * Set how far this server's queued backup writes to one node may fall behind: when
	 * the oldest write not yet answered is older than this, a request that saves waits
	 * for its own backup write instead of queueing more. A primary that dies loses at most
	 * the changes of about this long before its death.
	 * @param backupMaxLag more than 0 (default 100 ms)
	 */
	public void setBackupMaxLag(Duration backupMaxLag) {
		Assert.notNull(backupMaxLag, "backupMaxLag must not be null");
		Assert.isTrue(!backupMaxLag.isNegative() && !backupMaxLag.isZero(),
				() -> "backupMaxLag must be more than 0, was " + backupMaxLag
						+ " (for a backup every request waits for, turn backup-async off)");
		this.backupMaxLag = backupMaxLag;
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
	 * sessions are not sent: the node would refuse them anyway. A value above the
	 * smallest {@code item_size_max} that the nodes reported is lowered to it.
	 * @param maxItemSize bytes
	 */
	public void setMaxItemSize(int maxItemSize) {
		Assert.isTrue(maxItemSize >= 1024, "maxItemSize must be at least 1024 bytes");
		this.maxItemSize = capToServerItemSize(maxItemSize);
		reset();
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
	 * Set which attributes are written, and when (Spring Session's flush and save modes,
	 * and an attribute filter).
	 * @param savePolicy the policy (default {@link SessionSavePolicy#DEFAULT})
	 */
	public void setSavePolicy(SessionSavePolicy savePolicy) {
		Assert.notNull(savePolicy, "savePolicy must not be null");
		this.savePolicy = savePolicy;
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
	 * Set who hears of the sessions this server creates, serves and deletes (the session
	 * events, see {@code io.github.msm.session.event}).
	 * @param lifecycleListener the listener
	 */
	public void setLifecycleListener(SessionLifecycleListener lifecycleListener) {
		Assert.notNull(lifecycleListener, "lifecycleListener must not be null");
		this.lifecycleListener = lifecycleListener;
	}

	/**
	 * Counts a finished request in the {@code msm.requests} meter; called by
	 * {@link io.github.msm.session.web.SessionRequestScopeFilter}.
	 * @param withSession whether the request read, created or saved a session
	 */
	public void requestCompleted(boolean withSession) {
		this.metrics.request(withSession);
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
		RepositoryParts parts = parts();
		MemcachedNode node = parts.nodes.nodeForNewSession();
		String id = (node != null) ? this.idFormat.newId(node) : this.idFormat.newLocalId();
		return new MemcachedSession(id, this.defaultMaxInactiveInterval, this.idFormat, parts.codec, parts.lifetime);
	}

	/**
	 * Saves to the session's node; when that node is down, to the next node that is up,
	 * under the same id base with that node's suffix (the browser gets the new id); when
	 * no node is up, in this server's memory until one is.
	 */
	@Override
	public void save(MemcachedSession session) {
		SessionChanges changes = session.changes();
		save(session, changes);
		this.lifecycleListener.served(session, changes.isNew() && session.storedId() != null);
	}

	/** Saves a snapshot already taken (sticky mode takes it to decide how to save). */
	void save(MemcachedSession session, SessionChanges changes) {
		save(session, changes, true);
	}

	/**
	 * Saves a snapshot already taken.
	 * @param localFallback whether a change no node takes is kept in {@link LocalFallback};
	 * {@code false} for sticky mode, which keeps it in its own local copy instead (the
	 * failure is reported, see {@link WriteProblems#watch(Runnable)})
	 */
	void save(MemcachedSession session, SessionChanges changes, boolean localFallback) {
		RepositoryParts parts = parts();
		if (!changes.isNew() && changes.changesData()) {
			SessionWriteSignal.raise();
		}
		String id = session.getId();
		MemcachedNode node = this.idFormat.nodeOf(id);
		Assert.state(node != null || this.idFormat.isLocal(id),
				() -> "Session id " + id + " was not made by this repository");
		if (localFallback && parts.localFallback.holds(changes)) {
			// a stand-in for a session that could not be read: merged when its node is back
			parts.localFallback.save(session, changes);
			remember(changes, session);
			return;
		}
		if (node != null && parts.nodes.isAvailable(node) && !parts.nodes.shouldLeave(node)) {
			try {
				session.saved(changes, parts.writer.save(changes, node));
				remember(changes, session);
				return;
			}
			catch (PrimaryDownException ex) {
				// the node went down during the save: the session moves, below
			}
			catch (SessionMovedException ex) {
				saveMoved(session, changes, node, ex.newId);
				remember(changes, session);
				return;
			}
		}
		MemcachedNode target = (node == null) ? parts.nodes.nodeFor(id)
				: this.ring.isNodeIdInSessionId() ? parts.nodes.relocationTarget(node) : null;
		if (target == null && !localFallback) {
			parts.writer.problems().failed(changes, "no memcached node is up; sticky mode keeps it in memory");
			return;
		}
		if (target == null) {
			parts.localFallback.save(session, changes);
		}
		else {
			String newId = this.idFormat.onNode(id, target);
			if (changes.isRenamed() && node != null) {
				// a login whose node is down: the pre-login id must not come back there
				parts.remover.block(this.idFormat.onNode(changes.storedId(), target), target,
						changes.maxInactiveInterval());
			}
			StoredSession stored = parts.writer.relocate(changes, newId, target, node);
			if (stored != null && node != null) {
				this.metrics.relocated();
			}
			if (stored != null && node == null) {
				parts.local.attached(changes.storedId(), newId);
			}
			session.movedTo(newId, changes, stored);
		}
		remember(changes, session);
	}

	/** The session moved to another node after this request read it: the change goes there. */
	private void saveMoved(MemcachedSession session, SessionChanges changes, MemcachedNode node, String newId) {
		RepositoryParts parts = parts();
		MemcachedNode newNode = this.idFormat.nodeOf(newId);
		Read there = (newNode != null && newId.equals(this.idFormat.onNode(session.getId(), newNode)))
				? parts.reader.read(newId, newNode) : null;
		if (there == null || there.status() != SessionReader.Status.FOUND) {
			session.saved(changes, null);
			return;
		}
		SessionChanges moved = changes.movedTo(newId).withBase(there.session());
		session.movedTo(newId, changes, parts.writer.save(moved, newNode));
	}

	private static void remember(SessionChanges changes, MemcachedSession session) {
		if (changes.storedId() != null && !changes.storedId().equals(session.getId())) {
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
		if (node == null && !this.idFormat.isLocal(id)) {
			return null;
		}
		Optional<MemcachedSession> known = RequestSessionMemo.lookup(id);
		if (known != null) {
			return known.orElse(null);
		}
		MemcachedSession session = (node != null) ? parts().localFallback.reattach(id, node, load(id, node))
				: parts().localFallback.load(id, this::findById);
		RequestSessionMemo.remember(id, session);
		if (session != null && !session.getId().equals(id)) {
			RequestSessionMemo.remember(session.getId(), session);
		}
		if (node != null || (session != null && session.getId().equals(id))) {
			// a local id moved to a node was counted by the findById it delegated to
			this.metrics.lookedUp(session != null);
		}
		if (session != null) {
			this.lifecycleListener.served(session, false);
		}
		return session;
	}

	private @Nullable MemcachedSession load(String id, MemcachedNode node) {
		return load(id, node, true);
	}

	private @Nullable MemcachedSession load(String id, MemcachedNode node, boolean again) {
		RepositoryParts parts = parts();
		boolean single = !this.ring.isNodeIdInSessionId();
		if (!parts.nodes.isAvailable(node) || parts.nodes.shouldLeave(node)) {
			return single ? parts.localFallback.loadKeptWhileDown(id, null) : moveFrom(parts, id, node, again);
		}
		Read read = parts.reader.read(id, node);
		switch (read.status()) {
			case FOUND:
				break;
			case FAILED:
				return single ? parts.localFallback.loadKeptWhileDown(id, null) : moveFrom(parts, id, node, again);
			case ABSENT:
				return single ? parts.localFallback.loadKeptWhileDown(id, node) : session(parts, parts.failover.restore(id, node));
			case DELETED:
				return session(parts, parts.failover.follow(id, node, read));
			case CORRUPT:
				this.metrics.unreadableSession();
				parts.remover.deleteAsync(id, node);
				return null;
			default:
				this.metrics.unreadableSession();
				return null;
		}
		StoredSession stored = read.session();
		if (parts.lifetime.isExpired(stored.data().maxInactiveInterval(), stored.access())) {
			parts.remover.deleteAsync(id, node);
			this.metrics.expiredOnLookup();
			return null;
		}
		SessionFailover.Located checked = parts.failover.checkAfterReturn(id, node, stored);
		if (checked == null || !checked.id().equals(id)) {
			return session(parts, checked);
		}
		parts.failover.replicateIfNeeded(id, node, checked.session());
		return new MemcachedSession(id, checked.session(), this.idFormat, parts.codec, parts.lifetime);
	}

	/**
	 * The session of a node that did not answer, from the other nodes. When none has it
	 * and the node answers again by now (a hang that ended while this request waited for
	 * it and the other nodes), it is read there once more: else the request would get
	 * neither the session nor a stand-in (which is only for a node that is down), but a
	 * new session (issue 20: 12 to 29 per run of RealisticTrafficIT).
	 */
	private @Nullable MemcachedSession moveFrom(RepositoryParts parts, String id, MemcachedNode node, boolean again) {
		MemcachedSession moved = session(parts, parts.failover.moveFrom(id, node));
		if (moved == null && again && parts.nodes.isAvailable(node) && !parts.nodes.shouldLeave(node)) {
			return load(id, node, false);
		}
		return moved;
	}

	private @Nullable MemcachedSession session(RepositoryParts parts, SessionFailover.@Nullable Located located) {
		if (located == null) {
			return null;
		}
		StoredSession stored = located.session();
		if (parts.lifetime.isExpired(stored.data().maxInactiveInterval(), stored.access())) {
			this.metrics.expiredOnLookup();
			return null;
		}
		return new MemcachedSession(located.id(), stored, this.idFormat, parts.codec, parts.lifetime);
	}

	@Override
	public void deleteById(String id) {
		Optional<MemcachedSession> known = RequestSessionMemo.lookup(id);
		delete(id);
		this.lifecycleListener.deleted(id, (known != null) ? known.orElse(null) : null);
	}

	private void delete(String id) {
		SessionWriteSignal.raise();
		RepositoryParts parts = parts();
		if (this.idFormat.isLocal(id)) {
			parts.local.remove(id);
			RequestSessionMemo.remember(id, null);
			return;
		}
		String storedId = RequestSessionMemo.storedIdOf(id);
		if (storedId != null) {
			// invalidated after a changeSessionId this request has not saved: the session
			// lives under its stored id
			delete(storedId);
		}
		MemcachedNode node = this.idFormat.nodeOf(id);
		if (node == null) {
			return;
		}
		Optional<MemcachedSession> known = RequestSessionMemo.lookup(id);
		Duration interval = (known != null && known.isPresent()) ? known.get().getMaxInactiveInterval()
				: this.defaultMaxInactiveInterval;
		parts.remover.delete(id, node, interval);
		parts.local.remove(id);
		parts.localFallback.forget(id);
		RequestSessionMemo.remember(id, null);
	}

	/**
	 * Waits until the backup writes queued so far have been sent, so that a test (or an
	 * operator draining a server) can count on the backup copies.
	 */
	public void awaitBackupWrites() {
		parts().backup.flush();
	}

	/**
	 * How long the oldest backup write not yet answered has waited in this server's
	 * queues (with {@code backupAsync}); zero when none waits.
	 */
	public Duration backupLag() {
		RepositoryParts parts = this.parts;
		return (parts != null) ? parts.backup.lag() : Duration.ZERO;
	}

	/**
	 * How many sessions live only in this server's memory: saved while no node was up, or
	 * stand-ins for sessions whose node is down. They are lost if this server stops.
	 */
	public long localOnlySessionCount() {
		RepositoryParts parts = this.parts;
		return (parts != null) ? parts.local.size() : 0;
	}

	/** How many backup writes wait in this server's queues (with {@code backupAsync}). */
	public int backupQueueDepth() {
		RepositoryParts parts = this.parts;
		return (parts != null) ? parts.backup.queueDepth() : 0;
	}

	/** Writes the backup copies still queued (boundedly), then closes the connections. */
	public void shutdown() {
		RepositoryParts parts = this.parts;
		if (parts != null) {
			parts.close();
		}
		this.store.close();
	}

	SessionIdFormat idFormat() {
		return this.idFormat;
	}

	NodeRing ring() {
		return this.ring;
	}

	SessionKeys keys() {
		return this.keys;
	}

	SessionMetrics metrics() {
		return this.metrics;
	}

	Duration defaultMaxInactiveInterval() {
		return this.defaultMaxInactiveInterval;
	}

	MemcachedStore store() {
		return this.store;
	}

	RepositoryParts parts() {
		RepositoryParts parts = this.parts;
		if (parts == null) {
			synchronized (this) {
				parts = this.parts;
				if (parts == null) {
					parts = new RepositoryParts(this.store, this.ring, this.serializer, this.idFormat,
							new RepositoryParts.Settings(this.keys, this.metrics, this.backupAsync, this.backupMaxLag, this.maxItemSize,
									this.clock, this.accessWriteFraction, this.defaultMaxInactiveInterval,
									this.savePolicy, this::save));
					this.parts = parts;
				}
			}
		}
		return parts;
	}

	private synchronized void reset() {
		RepositoryParts parts = this.parts;
		this.parts = null;
		if (parts != null) {
			parts.close();
		}
	}

}
