package io.github.msm.session.event;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import io.github.msm.session.IncidentLog;
import io.github.msm.session.MemcachedSession;
import io.github.msm.session.SessionExpiryProbe;
import io.github.msm.session.SessionExpiryProbe.Claim;
import io.github.msm.session.SessionExpiryProbe.Verdict;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.context.ApplicationEventPublisher;
import org.springframework.session.MapSession;
import org.springframework.session.Session;
import org.springframework.session.events.SessionExpiredEvent;
import org.springframework.util.Assert;

/**
 * Publishes a {@link SessionExpiredEvent} for each session that expires in memcached,
 * once across the fleet: every server watches the sessions it served
 * ({@link ServedSessions}); when one is due, the server asks memcached
 * ({@link SessionExpiryProbe}) whether it expired or lives on (another server accessed it
 * later: checked again then; deleted or moved: no expiry), and the servers that find it
 * expired race to {@code add} a claim item: the one that stores it publishes. Time is the
 * repository's clock.
 *
 * <p>
 * A claim lives {@link #claimTtl()}; a server that finds an expiry older than half of
 * that (it was paused or cut off) publishes nothing and counts it as missed, since the
 * claim of a server that published may be gone. An expiry is missed, too, when every
 * server that served the session is gone, when the claim is won and the server dies
 * before publishing, or when two servers see different nodes up and claim on different
 * nodes (then it may be published twice).
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public class ExpiryWatch implements AutoCloseable {

	/** The default bound of sessions watched per server. */
	public static final int DEFAULT_MAX_SESSIONS = 100_000;

	/** The default time between two checks. */
	public static final Duration DEFAULT_CHECK_INTERVAL = Duration.ofSeconds(10);

	private static final Duration MIN_CLAIM_TTL = Duration.ofMinutes(10);

	private static final Log logger = LogFactory.getLog(ExpiryWatch.class);

	private final IncidentLog incidents = new IncidentLog(logger, Duration.ofMinutes(1));

	private final SessionExpiryProbe probe;

	private final ServedSessions served;

	private final Duration checkInterval;

	private final Duration claimTtl;

	private final Object source;

	private final ApplicationEventPublisher publisher;

	private final LongAdder published = new LongAdder();

	private final LongAdder missed = new LongAdder();

	private @Nullable ScheduledExecutorService checker;

	/**
	 * @param probe asks memcached about the sessions and claims their expiry
	 * @param maxSessions the most sessions watched; beyond them sessions are not watched
	 * (counted in {@link #untrackedCount()}, logged)
	 * @param checkInterval how often due sessions are checked
	 * @param source the events' source (the repository)
	 * @param publisher where the events go
	 */
	public ExpiryWatch(SessionExpiryProbe probe, int maxSessions, Duration checkInterval, Object source,
			ApplicationEventPublisher publisher) {
		Assert.notNull(probe, "probe must not be null");
		Assert.isTrue(checkInterval.toMillis() > 0, "checkInterval must be positive");
		Assert.notNull(source, "source must not be null");
		Assert.notNull(publisher, "publisher must not be null");
		this.probe = probe;
		this.served = new ServedSessions(maxSessions);
		this.checkInterval = checkInterval;
		Duration ttl = checkInterval.multipliedBy(10);
		this.claimTtl = (ttl.compareTo(MIN_CLAIM_TTL) < 0) ? MIN_CLAIM_TTL : ttl;
		this.source = source;
		this.publisher = publisher;
	}

	/** Starts checking on a background thread every check interval. */
	public synchronized void start() {
		if (this.checker == null) {
			this.checker = Executors.newSingleThreadScheduledExecutor((task) -> {
				Thread thread = new Thread(task, "msm-session-expiry");
				thread.setDaemon(true);
				return thread;
			});
			long every = this.checkInterval.toMillis();
			this.checker.scheduleWithFixedDelay(this::checkSafely, every, every, TimeUnit.MILLISECONDS);
		}
	}

	/** Stops checking; sessions still watched are left to the other servers. */
	@Override
	public synchronized void close() {
		if (this.checker != null) {
			this.checker.shutdownNow();
			this.checker = null;
		}
	}

	/**
	 * Watches a session this server served until it may have expired.
	 * @param session the session as served
	 */
	public void track(MemcachedSession session) {
		track(session.getId(), SessionExpiryProbe.expiresAt(session));
	}

	/**
	 * Watches a session this server served until the given time.
	 * @param id the session id
	 * @param expiresAt when it expires at the earliest; {@code null} for never (not
	 * watched)
	 */
	public void track(String id, @Nullable Instant expiresAt) {
		if (expiresAt == null) {
			this.served.forget(id);
			return;
		}
		if (!this.served.track(id, expiresAt)) {
			this.incidents.warn("expiry-untracked", () -> "This server watches " + this.served.size()
					+ " sessions, its bound: the expiry of further ones is published only by another server that"
					+ " served them (msm.events.max-sessions)");
		}
	}

	/** Stops watching a session (deleted through this server). */
	public void forget(String id) {
		this.served.forget(id);
	}

	/**
	 * Claims the expiry of a session this server found expired by other means (sticky
	 * mode's local copies).
	 * @return whether this server publishes it; {@code false} when another server did or
	 * no node took the claim (counted as missed)
	 */
	public boolean claim(String id) {
		this.served.forget(id);
		Claim claim = this.probe.claim(id, this.claimTtl);
		if (claim == Claim.FAILED) {
			missed(id, "no memcached node took its claim");
		}
		return claim == Claim.WON;
	}

	/** Checks the sessions due now: what the background thread does. */
	public void check() {
		Instant now = this.probe.now();
		for (ServedSessions.Due due : this.served.due(now)) {
			check(due, now);
		}
	}

	private void checkSafely() {
		try {
			check();
		}
		catch (RuntimeException ex) {
			logger.warn("Checking session expiry failed; next check in " + this.checkInterval, ex);
		}
	}

	private void check(ServedSessions.Due due, Instant now) {
		Verdict verdict = this.probe.probe(due.id());
		switch (verdict.state()) {
			case ALIVE -> {
				if (verdict.expiresAt() == null) {
					this.served.forget(due.id(), due.at());
				}
				else {
					// accessed later through another server: checked again at its new expiry
					this.served.reschedule(due.id(), verdict.expiresAt());
				}
			}
			case ENDED -> this.served.forget(due.id(), due.at());
			case UNKNOWN -> {
				if (isLate(due.at(), now)) {
					this.served.forget(due.id(), due.at());
					missed(due.id(), "no memcached node answered for " + Duration.between(due.at(), now));
				}
				else {
					this.served.reschedule(due.id(), now.plus(this.checkInterval));
				}
			}
			case EXPIRED -> expired(due, verdict, now);
		}
	}

	private void expired(ServedSessions.Due due, Verdict verdict, Instant now) {
		Instant expiredAt = (verdict.expiresAt() != null) ? verdict.expiresAt() : due.at();
		if (isLate(expiredAt, now)) {
			this.served.forget(due.id(), due.at());
			missed(due.id(), "found " + Duration.between(expiredAt, now) + " after its expiry, too late to claim");
			return;
		}
		switch (this.probe.claim(due.id(), this.claimTtl)) {
			case WON -> {
				this.served.forget(due.id(), due.at());
				Session session = (verdict.session() != null) ? verdict.session() : new MapSession(due.id());
				publish(new SessionExpiredEvent(this.source, session));
			}
			case LOST -> this.served.forget(due.id(), due.at());
			case FAILED -> this.served.reschedule(due.id(), now.plus(this.checkInterval));
		}
	}

	/** Whether another server's claim of this expiry may already be gone. */
	private boolean isLate(Instant expiredAt, Instant now) {
		return now.isAfter(expiredAt.plus(this.claimTtl.dividedBy(2)));
	}

	private void missed(String id, String why) {
		this.missed.increment();
		this.incidents.warn("expiry-missed", () -> "No SessionExpiredEvent for session " + tag(id) + ": " + why);
	}

	/** A short tag of a session id for logs: ids are credentials. */
	private static String tag(String id) {
		return Integer.toHexString(id.hashCode());
	}

	void publish(SessionExpiredEvent event) {
		this.published.increment();
		SessionEvents.publish(this.publisher, event);
	}

	/** How long a claim is kept: ten check intervals, at least 10 minutes. */
	public Duration claimTtl() {
		return this.claimTtl;
	}

	/** Sessions watched now. */
	public int trackedCount() {
		return this.served.size();
	}

	/** Sessions not watched because the bound was reached. */
	public long untrackedCount() {
		return this.served.untracked();
	}

	/** Expired events this server published. */
	public long publishedCount() {
		return this.published.sum();
	}

	/** Expiries this server saw but could not claim in time (see the class comment). */
	public long missedCount() {
		return this.missed.sum();
	}

}
