package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MemcachedExpirationTest {

	private final Instant now = Instant.parse("2026-11-25T12:00:00Z");

	@Test
	void of_Zero_ShouldNeverExpire() {
		assertThat(MemcachedExpiration.of(Duration.ZERO, this.now)).isZero();
	}

	@Test
	void of_Negative_ShouldNeverExpire() {
		assertThat(MemcachedExpiration.of(Duration.ofSeconds(-1), this.now)).isZero();
	}

	@Test
	void of_ThirtyMinutes_ShouldBeRelativeSeconds() {
		assertThat(MemcachedExpiration.of(Duration.ofMinutes(30), this.now)).isEqualTo(1800);
	}

	@Test
	void of_ExactlyThirtyDays_ShouldStillBeRelative() {
		assertThat(MemcachedExpiration.of(Duration.ofDays(30), this.now)).isEqualTo(2_592_000);
	}

	@Test
	void of_MoreThanThirtyDays_ShouldBeAbsoluteUnixTime() {
		int expiration = MemcachedExpiration.of(Duration.ofDays(30).plusSeconds(1), this.now);
		assertThat(expiration).isEqualTo(this.now.getEpochSecond() + 2_592_001);
	}

	@Test
	void of_SubSecond_ShouldRoundUpToOneSecond() {
		assertThat(MemcachedExpiration.of(Duration.ofMillis(10), this.now)).isEqualTo(1);
	}

}
