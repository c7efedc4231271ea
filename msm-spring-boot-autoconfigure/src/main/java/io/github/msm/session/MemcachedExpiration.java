package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;

/**
 * The expiration value memcached is sent for an item that must live for a given time.
 *
 * <p>
 * memcached reads an expiration of more than 30 days as an absolute unix time, so a
 * longer lifetime must be sent as "now + lifetime" (msm #228: a 50,000-minute timeout
 * made sessions expire at once). Zero means the item never expires.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class MemcachedExpiration {

	/** The largest expiration memcached reads as relative seconds. */
	public static final int MAX_RELATIVE_SECONDS = 60 * 60 * 24 * 30;

	private MemcachedExpiration() {
	}

	/**
	 * The expiration for an item that must outlive {@code now} by {@code lifetime}.
	 * @param lifetime how long the item must live; zero or negative means forever
	 * @param now the current time
	 * @return 0 for never, relative seconds up to 30 days, else absolute unix seconds
	 */
	public static int of(Duration lifetime, Instant now) {
		if (lifetime.isZero() || lifetime.isNegative()) {
			return 0;
		}
		long seconds = Math.max(1, (lifetime.toMillis() + 999) / 1000);
		if (seconds <= MAX_RELATIVE_SECONDS) {
			return (int) seconds;
		}
		long absolute = now.getEpochSecond() + seconds;
		return (int) Math.min(absolute, Integer.MAX_VALUE);
	}

}
