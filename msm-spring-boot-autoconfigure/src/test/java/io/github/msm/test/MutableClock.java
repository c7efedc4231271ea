package io.github.msm.test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A clock that runs with the system clock, shifted by an offset a test can change: a
 * server whose clock is ahead or behind, or time that jumps forward.
 */
public final class MutableClock extends Clock {

	private volatile Duration offset;

	public MutableClock(Duration offset) {
		this.offset = offset;
	}

	public void advance(Duration duration) {
		this.offset = this.offset.plus(duration);
	}

	@Override
	public Instant instant() {
		return Instant.now().plus(this.offset);
	}

	@Override
	public ZoneId getZone() {
		return ZoneOffset.UTC;
	}

	@Override
	public Clock withZone(ZoneId zone) {
		throw new UnsupportedOperationException();
	}

}
