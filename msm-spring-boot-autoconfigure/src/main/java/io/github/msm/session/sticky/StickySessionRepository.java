package io.github.msm.session.sticky;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.github.msm.session.LocalCopy;
import io.github.msm.session.MemcachedSession;
import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.StickyAccess;
import io.github.msm.session.event.ExpiryWatch;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;

import org.springframework.context.ApplicationEvent;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.session.MapSession;
import org.springframework.session.Session;
import org.springframework.session.SessionRepository;
import org.springframework.session.events.SessionCreatedEvent;
import org.springframework.session.events.SessionDeletedEvent;
import org.springframework.session.events.SessionExpiredEvent;
import org.springframework.util.Assert;

/**
 * Sticky mode (msm's default): sessions are served from this server's memory and
 * memcached holds the copy another server takes over when this one goes away.
 *
 * <p>
 * A load balancer keeps each user on one server by the route at the end of the session
 * id ({@code <32 hex>-n1.app1}). On that server, a request that does not change its
 * session costs no memcached operation; one that changes it costs one compare-and-set
 * (the local copy holds the current CAS token), plus the queued backup write. A request
 * whose id carries another server's route takes the session over: it reads it from
 * memcached, gives it this server's route under the same base and node, replaces the old
 * id with a tombstone and sends the new id. A user who comes back with that id is a
 * takeover again, so never gets this server's older copy (msm #153); a request still
 * carrying the old id gets it at most for one sweep interval ({@link CopyChecks}).
 * A change memcached does not take stays pending in the local copy and is written later
 * ({@link UnwrittenSessions}). Only a tombstone ends a held session: when memcached has
 * nothing under its id (a node restarted empty), the local copy is written back under the
 * same id ({@link StickyAccess#restore(LocalCopy)}) by its next change, its check, its
 * recheck after a node change, or the sweep ({@link StickyRecheck}).
 *
 * <p>
 * Each request gets its own {@link MemcachedSession}, built from the local copy's bytes
 * (copy on read), so concurrent requests of a session share no mutable object and
 * serialization never sees a concurrent change; attributes are deserialized only when
 * read. Local copies are bounded ({@link #setMaxSessions(int)}) and expire with their
 * session's own max-inactive interval; an expired session is deleted from memcached and
 * a {@link SessionExpiredEvent} published, once across the fleet when an
 * {@link ExpiryWatch} claims it. A session evicted for space stays in memcached, is read
 * from there at its next request, and is watched for its expiry there. Shutdown deletes
 * nothing.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public class StickySessionRepository implements SessionRepository<MemcachedSession> {

	/** The default bound of sessions held in memory. */
	public static final int DEFAULT_MAX_SESSIONS = 10_000;

	private final StickyAccess access;

	private final MemcachedSessionRepository memcached;

	private Clock clock = Clock.systemUTC();

	private int maxSessions = DEFAULT_MAX_SESSIONS;

	private ApplicationEventPublisher eventPublisher = (event) -> {
	};

	private StickyMetrics metrics = StickyMetrics.none(this);

	private @Nullable ExpiryWatch expiryWatch;

	private @Nullable StickyWriteQueue writes;

	private @Nullable ScheduledExecutorService sweeper;

	/** How long a local copy is served without a look at memcached (msm #153, old ids). */
	private Duration checkEvery = Duration.ofMinutes(1);

	private CopyChecks checks;

	private final UnwrittenSessions unwritten;

	private Cache<String, LocalCopy> sessions;

	/** Striped per-session locks for saves (sticky mode needs no memcached lock). */
	private final Object[] locks = Stream.generate(Object::new).limit(1024).toArray();

	private final StickyRecheck recheck;

	/**
	 * Create a repository.
	 * @param memcached the repository that reads and writes memcached; sticky mode
	 * requires it to have a route ({@link MemcachedSessionRepository#setJvmRoute(String)})
	 */
	public StickySessionRepository(MemcachedSessionRepository memcached) {
		Assert.notNull(memcached, "memcached must not be null");
		this.memcached = memcached;
		this.access = new StickyAccess(memcached);
		this.unwritten = new UnwrittenSessions(this.access, this::writeQueued);
		Assert.state(this.access.route() != null, "sticky mode needs a jvmRoute: without a route in the id, a server"
				+ " cannot tell that another server took a session over and would serve its older local copy");
		this.sessions = newCache();
		this.checks = new CopyChecks(this.access, this.clock, this.checkEvery, this::writeBack);
		this.recheck = new StickyRecheck(this.access);
		this.access.onNodeChange(() -> this.recheck.markAll(this.sessions.asMap().keySet()));
	}

	/**
	 * Set how many sessions this server holds in memory at most; beyond that the least
	 * used are evicted (they stay in memcached). Set before use: sessions held are dropped.
	 * @param maxSessions at least 1 (default {@value #DEFAULT_MAX_SESSIONS})
	 */
	public void setMaxSessions(int maxSessions) {
		Assert.isTrue(maxSessions >= 1, "maxSessions must be at least 1");
		this.maxSessions = maxSessions;
		this.sessions = newCache();
	}

	/**
	 * Set the clock local expiry is measured with (the memcached repository has its own).
	 * Set before use: sessions held are dropped.
	 * @param clock the clock
	 */
	public void setClock(Clock clock) {
		Assert.notNull(clock, "clock must not be null");
		this.clock = clock;
		this.sessions = newCache();
		this.checks = new CopyChecks(this.access, clock, this.checkEvery, this::writeBack);
	}

	/**
	 * Set where created, deleted and expired events go, so that {@code HttpSessionListener}
	 * beans work through Spring Session's adapter.
	 * @param eventPublisher the publisher
	 */
	public void setApplicationEventPublisher(ApplicationEventPublisher eventPublisher) {
		Assert.notNull(eventPublisher, "eventPublisher must not be null");
		this.eventPublisher = eventPublisher;
	}

	/**
	 * Set the watch that makes each expired event one across the fleet: an expired local
	 * copy is published by the server that claims it, and a session evicted from memory
	 * is watched there until it expires in memcached. Without one, every expired local
	 * copy is published by the server that held it.
	 * @param expiryWatch the watch
	 */
	public void setExpiryWatch(ExpiryWatch expiryWatch) {
		Assert.notNull(expiryWatch, "expiryWatch must not be null");
		this.expiryWatch = expiryWatch;
	}

	/**
	 * Set where sticky mode's meters go.
	 * @param registry the registry
	 */
	public void setMeterRegistry(MeterRegistry registry) {
		Assert.notNull(registry, "registry must not be null");
		this.metrics = new StickyMetrics(registry, this);
	}

	/**
	 * Set whether changes are written from a queue instead of by the request. Queued
	 * writes take memcached's latency out of the request and coalesce the writes of a
	 * busy session; a change not yet written is lost if this server dies (not if it shuts
	 * down gracefully). Renames and new sessions are always written by the request.
	 * @param asyncWrites whether to queue writes (default {@code false})
	 * @param capacity how many sessions may wait in the queue
	 */
	public void setAsyncWrites(boolean asyncWrites, int capacity) {
		StickyWriteQueue old = this.writes;
		this.writes = asyncWrites ? new StickyWriteQueue(capacity, this::writeQueued, () -> this.metrics.dropped())
				: null;
		if (old != null) {
			old.close();
		}
	}

	/**
	 * Starts expiring idle sessions on a background thread (the equivalent of Tomcat's
	 * {@code processExpires}); without it they expire as the cache is used. The interval
	 * is also how long a local copy is served before one read checks it ({@link CopyChecks}),
	 * and how soon sessions a restarted node lost are written back ({@link StickyRecheck}).
	 * @param every how often to look
	 */
	public synchronized void startSweeper(Duration every) {
		Assert.isTrue(every.toMillis() > 0, "every must be positive");
		this.checkEvery = every;
		this.checks = new CopyChecks(this.access, this.clock, every, this::writeBack);
		if (this.sweeper == null) {
			this.sweeper = UnwrittenSessions.daemonScheduler("msm-sticky-sweeper");
			this.sweeper.scheduleWithFixedDelay(this::sweep, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
		}
	}

	private Cache<String, LocalCopy> newCache() {
		return Caffeine.newBuilder()
			.maximumSize(this.maxSessions)
			.ticker(() -> TimeUnit.MILLISECONDS.toNanos(this.clock.millis()))
			.expireAfter(new LocalCopyExpiry(this.clock))
			.executor(Runnable::run)
			.removalListener((String id, @Nullable LocalCopy copy, RemovalCause cause) -> {
				if (cause == RemovalCause.EXPIRED && copy != null) {
					expired(copy);
				}
				else if (cause == RemovalCause.SIZE && copy != null) {
					if (copy.isPending()) {
						// evicted for space with queued changes: memcached must get them now,
						// the queue and the shutdown flush only see sessions still held
						this.unwritten.writeEvicted(copy);
					}
					ExpiryWatch watch = this.expiryWatch;
					if (watch != null) {
						watch.track(id, copy.expiresAt());
					}
				}
			})
			.build();
	}

	@Override
	public MemcachedSession createSession() {
		return this.memcached.createSession();
	}

	@Override
	public @Nullable MemcachedSession findById(String id) {
		if (this.access.isOwnId(id)) {
			LocalCopy copy = this.sessions.getIfPresent(id);
			if (copy == null && (copy = this.unwritten.takeEvicted(id)) != null) {
				this.sessions.asMap().putIfAbsent(id, copy);
				this.unwritten.add(id);
			}
			if (copy != null) {
				LocalCopy current = this.checks.current(copy);
				if (current != copy) {
					copy = replace(id, copy, current);
				}
			}
			if (copy != null && !this.recheck.take(id, copy)) {
				this.metrics.hit();
				return this.access.open(copy);
			}
			this.metrics.miss();
			MemcachedSession session = this.memcached.findById(id);
			LocalCopy loaded = (session != null) ? this.access.copyOf(session) : null;
			if (copy != null && loaded == null) {
				// a tombstone, nothing, or a stand-in (no node answers): unless a tombstone
				// ended it, this server's copy is all there is and goes back under its id
				copy = writeBack(copy);
				return (copy != null) ? this.access.open(copy) : null;
			}
			if (copy != null) {
				// rechecked: memcached's copy, maybe moved to another node, replaces ours
				this.sessions.asMap().remove(id, copy);
			}
			if (loaded != null) {
				this.sessions.asMap().putIfAbsent(loaded.id(), this.checks.known(loaded));
			}
			return session;
		}
		MemcachedSession session = this.memcached.findById(id);
		if (session != null && this.access.isOtherServersId(id) && this.access.takeOver(session)) {
			this.metrics.takeover();
		}
		return session;
	}

	/**
	 * Writes back a held copy memcached lost ({@link StickyAccess#restore(LocalCopy)}),
	 * taking turns with the session's saves: it writes the latest state this server
	 * acknowledged, never an older copy a request or the sweeper read before a save.
	 * @return the copy held now; the one given when memcached did not take it or it is no
	 * longer held (an expired copy is not written back); {@code null} when a tombstone
	 * ended the session
	 */
	private @Nullable LocalCopy writeBack(@Nullable LocalCopy seen) {
		if (seen == null) {
			return null;
		}
		synchronized (lockFor(seen.id())) {
			LocalCopy held = this.sessions.policy().getIfPresentQuietly(seen.id());
			if (held == null) {
				return seen;
			}
			LocalCopy restored = this.access.restore(held);
			if (restored == held) {
				return (held == seen) ? seen : held;
			}
			return replace(seen.id(), held, restored);
		}
	}

	/** Replaces a held copy with what memcached now holds of it; {@code null} drops it. */
	private @Nullable LocalCopy replace(String id, LocalCopy copy, @Nullable LocalCopy now) {
		if (now == null) {
			this.sessions.asMap().remove(id, copy);
			return null;
		}
		if (now != copy) {
			this.sessions.asMap().replace(id, copy, this.checks.known(now));
		}
		return now;
	}

	@Override
	public void save(MemcachedSession session) {
		String storedId = this.access.storedIdOf(session);
		// saves of a session take turns (the store's save lock would serialise their writes
		// anyway): a queued change is planned on the local copy the save reads, and a write
		// back after memcached lost the session writes that copy, so it must hold every
		// change acknowledged before
		synchronized (lockFor((storedId != null) ? storedId : session.getId())) {
			saveLocked(session, storedId);
		}
	}

	private Object lockFor(String id) {
		return this.locks[Math.floorMod(id.hashCode(), this.locks.length)];
	}

	private void saveLocked(MemcachedSession session, @Nullable String storedId) {
		boolean explicitAccess = this.access.hasExplicitAccess(session);
		LocalCopy current = (storedId != null) ? this.sessions.policy().getIfPresentQuietly(storedId) : null;
		StickyAccess.Outcome outcome = this.access.save(session, current, this.writes != null);
		if (outcome.unwritten() != null) {
			// memcached did not take the change: the local copy is the only current one
			String id = session.getId();
			synchronized (lockFor(id)) {
				this.sessions.asMap()
					.compute(id, (key, now) -> this.checks.known(this.access.keepPending(session, outcome.unwritten(), now)));
			}
			this.metrics.unwritten();
			this.unwritten.add(id);
			return;
		}
		LocalCopy copy = outcome.copy();
		if (storedId != null && (copy == null || !storedId.equals(copy.id()))) {
			this.sessions.invalidate(storedId);
		}
		if (copy == null) {
			this.sessions.invalidate(session.getId());
			return;
		}
		this.checks.known(copy);
		if (explicitAccess) {
			// an access time set explicitly is taken as given, also back in time
			this.sessions.put(copy.id(), copy);
		}
		else {
			this.sessions.asMap().merge(copy.id(), copy, (existing, saved) -> saved.newest(existing));
		}
		if (outcome.created()) {
			publish(new SessionCreatedEvent(this, session));
		}
		StickyWriteQueue writes = this.writes;
		if (outcome.queued() && writes != null) {
			writes.enqueue(copy.id());
		}
	}

	@Override
	public void deleteById(String id) {
		LocalCopy copy = this.sessions.asMap().remove(id);
		Session deleted = (copy != null) ? this.access.open(copy) : new MapSession(id);
		this.memcached.deleteById(id);
		publish(new SessionDeletedEvent(this, deleted));
	}

	/** The repository that reads and writes memcached for this one. */
	public MemcachedSessionRepository memcachedRepository() {
		return this.memcached;
	}

	/**
	 * Expires idle sessions now, and writes back the sessions held here that memcached
	 * lost when a node restarted empty: what the background sweeper does.
	 */
	public void sweep() {
		this.sessions.cleanUp();
		this.recheck.retainOnly(this.sessions.asMap().keySet());
		this.recheck.restoreLost(this.sessions, this::writeBack);
	}

	/** Sessions held in memory now (approximately). */
	public long localSessionCount() {
		return this.sessions.estimatedSize();
	}

	/** Sessions whose changes memcached did not take yet (kept in memory, retried). */
	public int unwrittenCount() {
		return this.unwritten.size();
	}

	/** Sessions whose changes wait to be written. */
	public int queuedWriteCount() {
		StickyWriteQueue writes = this.writes;
		return (writes != null) ? writes.size() : 0;
	}

	/**
	 * Writes every change still held only in memory, then waits for the backup writes:
	 * for a graceful shutdown, and for tests. Deletes nothing.
	 */
	public void flush() {
		StickyWriteQueue writes = this.writes;
		if (writes != null) {
			writes.drain();
		}
		List<String> pending = new ArrayList<>();
		this.sessions.asMap().forEach((id, copy) -> pending.add(copy.isPending() ? id : null));
		// stops at the first write memcached does not take: an outage costs one timeout
		if (pending.stream().allMatch((id) -> id == null || writeQueued(id))) {
			this.unwritten.retry();
		}
		this.memcached.awaitBackupWrites();
	}

	/**
	 * Stops the sweeper, writes every change still held only in memory and waits for the
	 * backup writes. Sessions stay in memcached, so that another server (or this one
	 * after a restart) continues them.
	 */
	public void shutdown() {
		ScheduledExecutorService sweeper = this.sweeper;
		if (sweeper != null) {
			sweeper.shutdownNow();
		}
		StickyWriteQueue writes = this.writes;
		if (writes != null) {
			writes.close();
		}
		this.unwritten.close();
		flush();
		this.unwritten.reportLost();
	}

	/**
	 * Writes the latest local state of a session whose changes were queued or not taken.
	 * @return {@code false} when memcached still did not take them (they stay pending)
	 */
	private boolean writeQueued(String id) {
		LocalCopy copy = this.sessions.policy().getIfPresentQuietly(id);
		if (copy == null || !copy.isPending()) {
			return true;
		}
		LocalCopy stored = this.access.write(copy);
		if (stored == copy) {
			this.unwritten.add(id);
			return false;
		}
		if (stored != null && !stored.id().equals(id)) {
			// the session moved to another node while queued: readers of the old id follow it
			this.sessions.invalidate(id);
			return true;
		}
		synchronized (lockFor(id)) {
			this.sessions.asMap().computeIfPresent(id, (key, held) -> {
				if (stored == null) {
					return null;
				}
				// nothing queued since: the copy is what was written (its version and CAS token,
				// so that the next change is one compare-and-set); else it keeps the newer state
				return this.checks.known(held.hasSameStateAs(copy) ? held.writtenAs(stored) : held.withWritten(stored));
			});
		}
		return true;
	}

	/** A local copy expired: unless memcached says otherwise, so did its session. */
	private void expired(LocalCopy copy) {
		if (this.checks.hasExpired(copy)) {
			ExpiryWatch watch = this.expiryWatch;
			boolean claimed = watch == null || watch.claim(copy.id());
			this.access.expire(copy);
			if (claimed) {
				publish(new SessionExpiredEvent(this, this.access.open(copy)));
			}
		}
	}

	private void publish(ApplicationEvent event) {
		try {
			this.eventPublisher.publishEvent(event);
		}
		catch (RuntimeException ex) {
			// a listener's failure must not fail the request or the sweep
			org.apache.commons.logging.LogFactory.getLog(StickySessionRepository.class)
				.warn("Session event listener failed on " + event, ex);
		}
	}

}
