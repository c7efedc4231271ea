package io.github.msm.session.sticky;

import java.time.Clock;
import java.time.Duration;
import java.util.function.UnaryOperator;

import io.github.msm.session.HeldCopyCheck;
import io.github.msm.session.LocalCopy;
import io.github.msm.session.StickyAccess;
import org.jspecify.annotations.Nullable;

/**
 * Looks at memcached, rarely, to tell whether a local copy is still this server's session.
 * Another server that took the session over leaves a tombstone under this server's id; this
 * server cannot learn that without a read, and reads are what sticky mode saves. So:
 * <ul>
 * <li>a copy is served unchecked for one interval (the sweep interval, one minute by
 * default) after this server last wrote, read or checked it; after that its next request
 * costs one read. A request still carrying this server's old id (a second tab, msm #153)
 * gets the stale copy only within that interval, and never writes it back (its write finds
 * the tombstone).</li>
 * <li>a copy that expires is checked before its session is deleted and the expired event
 * published: a session taken over, or written meanwhile under this id, has not expired.</li>
 * </ul>
 * A check that memcached does not answer keeps the copy (it may be the only current one).
 * A check that finds nothing, not even a tombstone, writes the copy back: memcached lost
 * the session (its node restarted empty, or evicted it), nobody ended it.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class CopyChecks {

	private final StickyAccess access;

	private final Clock clock;

	private final long everyMillis;

	private final UnaryOperator<@Nullable LocalCopy> writeBack;

	/**
	 * @param writeBack writes a held copy back that memcached lost (taking turns with the
	 * session's saves); answers the copy now held, {@code null} when a tombstone ended it
	 */
	CopyChecks(StickyAccess access, Clock clock, Duration every, UnaryOperator<@Nullable LocalCopy> writeBack) {
		this.access = access;
		this.clock = clock;
		this.everyMillis = every.toMillis();
		this.writeBack = writeBack;
	}

	/** Records that memcached holds the copy's version now (this server wrote or read it). */
	LocalCopy known(LocalCopy copy) {
		return copy.verified(this.clock.millis());
	}

	/**
	 * The copy to serve: this one, or this one as written back when memcached had lost
	 * it; {@code null} when memcached says it was replaced (taken over, logged out,
	 * renamed, or written meanwhile under this id).
	 */
	@Nullable LocalCopy current(LocalCopy copy) {
		long now = this.clock.millis();
		long verifiedAt = copy.verifiedAt();
		if (verifiedAt == Long.MIN_VALUE || now - verifiedAt < this.everyMillis) {
			if (verifiedAt == Long.MIN_VALUE) {
				copy.verified(now);
			}
			return copy;
		}
		HeldCopyCheck check = this.access.check(copy);
		if (check == HeldCopyCheck.CURRENT || check == HeldCopyCheck.UNKNOWN) {
			return copy.verified(now);
		}
		if (check == HeldCopyCheck.ABSENT) {
			// no tombstone, nothing: memcached lost it (a node restarted empty); this copy
			// is the session and goes back under its id, unless a backup tombstone says no
			LocalCopy restored = this.writeBack.apply(copy);
			return (restored != null) ? restored.verified(now) : null;
		}
		return null;
	}

	/** Whether an expired copy's session really expired: not taken over nor written meanwhile. */
	boolean hasExpired(LocalCopy copy) {
		HeldCopyCheck check = this.access.check(copy);
		return check != HeldCopyCheck.MOVED && check != HeldCopyCheck.CHANGED;
	}

}
