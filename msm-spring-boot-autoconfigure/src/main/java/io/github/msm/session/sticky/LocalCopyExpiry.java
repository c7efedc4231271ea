package io.github.msm.session.sticky;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import com.github.benmanes.caffeine.cache.Expiry;
import io.github.msm.session.LocalCopy;

/**
 * Local copies live as long as their session: last access plus its own interval, so the
 * cache expires each one exactly when its session would (the sweeper then publishes the
 * expired event).
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class LocalCopyExpiry implements Expiry<String, LocalCopy> {

	private final Clock clock;

	LocalCopyExpiry(Clock clock) {
		this.clock = clock;
	}

	@Override
	public long expireAfterCreate(String id, LocalCopy copy, long currentTime) {
		return remaining(copy);
	}

	@Override
	public long expireAfterUpdate(String id, LocalCopy copy, long currentTime, long currentDuration) {
		return remaining(copy);
	}

	@Override
	public long expireAfterRead(String id, LocalCopy copy, long currentTime, long currentDuration) {
		return currentDuration;
	}

	private long remaining(LocalCopy copy) {
		Instant expiresAt = copy.expiresAt();
		if (expiresAt == null) {
			return Long.MAX_VALUE;
		}
		long left = Duration.between(this.clock.instant(), expiresAt).toNanos();
		return Math.max(0, left);
	}

}
