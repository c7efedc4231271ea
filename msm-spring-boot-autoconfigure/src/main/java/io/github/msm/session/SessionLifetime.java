package io.github.msm.session;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import io.github.msm.session.SessionCodec.Access;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * When a session expires, how long its items live in memcached, and when an access is
 * worth writing. One place for the time model, so that every server agrees on it.
 *
 * <p>
 * A session expires at {@code lastAccessedTime + maxInactiveInterval + slack}. Writing
 * every access would cost a write per request, so an access is written only when the
 * stored expiry would no longer cover it: after an access is written, further accesses
 * within the <em>write window</em> (a fraction of the interval, default 1/8) are not
 * written, and the stored slack of one window keeps the session alive for them. So a
 * session never expires earlier than its interval after the real last access, and at
 * most one window later. An access time an application sets explicitly (anything but
 * "now") is written as given, with no slack.
 *
 * <p>
 * Memcached's own expirations only back this up: the data item lives one interval plus
 * a grace period longer than the session, so a read-only request needs to {@code touch}
 * it about once per interval, and the validity item lives a grace period longer. The
 * grace period also absorbs modest clock differences between servers.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class SessionLifetime {

	static final Duration GRACE = Duration.ofSeconds(60);

	/** The longest interval kept as given; longer ones are cut to it (it is forever enough). */
	static final Duration MAX_INTERVAL = Duration.ofDays(365L * 100);

	/** How far from "now" an access time may be and still count as a plain access. */
	static final Duration CURRENT = Duration.ofSeconds(1);

	/** The write window of sessions that never expire (their access time is only shown). */
	static final Duration NEVER_EXPIRING_WINDOW = Duration.ofMinutes(1);

	private final Clock clock;

	private final double accessWriteFraction;

	/**
	 * @param clock the clock of this server
	 * @param accessWriteFraction the write window as a fraction of the interval, from 0
	 * (write every access) to 0.5
	 */
	SessionLifetime(Clock clock, double accessWriteFraction) {
		Assert.notNull(clock, "clock must not be null");
		Assert.isTrue(accessWriteFraction >= 0 && accessWriteFraction <= 0.5,
				() -> accessWriteFraction + " must be between 0 and 0.5");
		this.clock = clock;
		this.accessWriteFraction = accessWriteFraction;
	}

	Instant now() {
		return this.clock.instant();
	}

	static boolean neverExpires(Duration interval) {
		return interval.isZero() || interval.isNegative();
	}

	/** Whether an access time set by the application means "accessed now". */
	boolean isCurrent(Instant accessTime) {
		Instant now = now();
		return !accessTime.isBefore(now.minus(CURRENT)) && !accessTime.isAfter(now.plus(CURRENT));
	}

	Duration window(Duration interval) {
		if (neverExpires(interval)) {
			return NEVER_EXPIRING_WINDOW;
		}
		return Duration.ofMillis((long) (interval.toMillis() * this.accessWriteFraction));
	}

	/** The slack of a newly written access. */
	Duration slack(boolean current, Duration interval) {
		return current ? window(interval) : Duration.ZERO;
	}

	/** When the session expires; {@code null} for never. */
	static @Nullable Instant expiresAt(Duration interval, Access access) {
		if (neverExpires(interval)) {
			return null;
		}
		return access.lastAccessedTime().plus(interval).plus(access.slack());
	}

	/** The boundary instant counts as expired, as in {@code MapSession}. */
	boolean isExpired(Duration interval, Access access) {
		Instant expiresAt = expiresAt(interval, access);
		return expiresAt != null && !now().isBefore(expiresAt);
	}

	/**
	 * Whether a plain access at {@code accessTime} needs no write: the stored expiry is at
	 * least as late as the one the access would give. An access time "before" the stored
	 * one (a server whose clock is behind) is covered too, so servers with different
	 * clocks never move a session's expiry back.
	 */
	static boolean covers(Access stored, Instant accessTime) {
		return !accessTime.isAfter(stored.lastAccessedTime().plus(stored.slack()));
	}

	/**
	 * How long the data item must live from now: one interval past the session's expiry,
	 * plus the grace period. {@link Duration#ZERO} means forever.
	 */
	Duration dataLifetime(Duration interval, Access access) {
		Instant expiresAt = expiresAt(interval, access);
		if (expiresAt == null) {
			return Duration.ZERO;
		}
		return untilOrZero(expiresAt).plus(interval).plus(GRACE);
	}

	/** How long the validity item must live from now. {@link Duration#ZERO} means forever. */
	Duration validityLifetime(Duration interval, Access access) {
		Instant expiresAt = expiresAt(interval, access);
		if (expiresAt == null) {
			return Duration.ZERO;
		}
		return untilOrZero(expiresAt).plus(GRACE);
	}

	/** When a data item written now for this access expires, in epoch seconds. */
	long itemsExpireAt(Duration interval, Access access) {
		Duration lifetime = dataLifetime(interval, access);
		return lifetime.isZero() ? Long.MAX_VALUE : now().plus(lifetime).getEpochSecond();
	}

	/** An access as written now, with the data item's expiry it will have. */
	Access written(Instant lastAccessedTime, Duration slack, Duration interval) {
		Access access = new Access(lastAccessedTime, slack, 0);
		return new Access(lastAccessedTime, slack, itemsExpireAt(interval, access));
	}

	/**
	 * Whether the data item must be {@code touch}ed to outlive a newly written access:
	 * memcached would otherwise drop it less than a grace period after the session's new
	 * expiry.
	 */
	boolean needsTouch(Access stored, Duration interval, Access next) {
		Instant expiresAt = expiresAt(interval, next);
		if (expiresAt == null) {
			return stored.itemsExpireAt() != Long.MAX_VALUE;
		}
		return stored.itemsExpireAt() < expiresAt.plus(GRACE).getEpochSecond();
	}

	/**
	 * How long a tombstone must outlive a deletion: as long as a late backup write could
	 * still arrive and its copy would have mattered, at most a day.
	 */
	static Duration tombstoneLifetime(Duration interval) {
		Duration day = Duration.ofDays(1);
		if (neverExpires(interval) || interval.compareTo(day) > 0) {
			return day;
		}
		return interval.multipliedBy(2).plus(GRACE);
	}

	/** memcached's expiration value for an item that must live this long from now. */
	int expiration(Duration lifetime) {
		return MemcachedExpiration.of(lifetime, now());
	}

	private Duration untilOrZero(Instant instant) {
		Duration left = Duration.between(now(), instant);
		return left.isNegative() ? Duration.ZERO : left;
	}

}
