package io.github.msm.session.lock;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class LocalSessionLocksTest {

	private final LocalSessionLocks locks = new LocalSessionLocks();

	@Test
	void acquire_WhileHeld_ShouldTimeOut() {
		LocalSessionLocks.Permit held = this.locks.acquire("a", 0);

		assertThat(held).isNotNull();
		assertThat(this.locks.acquire("a", TimeUnit.MILLISECONDS.toNanos(20))).isNull();
		assertThat(this.locks.acquire("b", 0)).as("another session").isNotNull();
	}

	@Test
	void release_LastUser_ShouldForgetTheSession() {
		LocalSessionLocks.Permit held = this.locks.acquire("a", 0);
		this.locks.acquire("a", 0);

		held.release();

		assertThat(this.locks.size()).isZero();
		assertThat(this.locks.acquire("a", 0)).isNotNull();
	}

}
