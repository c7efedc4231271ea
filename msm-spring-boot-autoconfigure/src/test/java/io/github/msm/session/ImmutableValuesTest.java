package io.github.msm.session;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ImmutableValuesTest {

	@Test
	void isImmutable_JdkValueTypesAndEnums_ShouldBeTrue() {
		assertThat(new Object[] { "text", 42, 42L, true, 'c', 1.5d, new BigDecimal("9.99"), UUID.randomUUID(),
				Instant.now(), LocalDate.now(), ChronoUnit.DAYS })
			.allSatisfy((value) -> assertThat(ImmutableValues.isImmutable(value)).as("%s", value.getClass()).isTrue());
	}

	@Test
	void isImmutable_MutableValuesAndSubclasses_ShouldBeFalse() {
		BigDecimal subclass = new BigDecimal("1") {
		};
		assertThat(new Object[] { new ArrayList<String>(), new AtomicInteger(), new Date(), new StringBuilder("x"),
				new int[] { 1 }, subclass })
			.allSatisfy((value) -> assertThat(ImmutableValues.isImmutable(value)).as("%s", value.getClass()).isFalse());
	}

}
