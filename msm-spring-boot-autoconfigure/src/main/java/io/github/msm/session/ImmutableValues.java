package io.github.msm.session;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.MonthDay;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.Period;
import java.time.Year;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Set;
import java.util.UUID;

/**
 * Values that cannot change in place, so an attribute that a request only read still has
 * the bytes it was read from, and the save need not serialize it again to find out. The
 * classes are matched exactly (a subclass of {@link BigDecimal} may be mutable); enum
 * constants are written by name, whatever fields they carry.
 *
 * <p>
 * Found by profiling the read-mostly benchmark: serializing every read attribute again
 * was about a quarter of the store's time on the request thread.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class ImmutableValues {

	private static final Set<Class<?>> TYPES = Set.of(String.class, Integer.class, Long.class, Short.class,
			Byte.class, Character.class, Boolean.class, Float.class, Double.class, BigInteger.class,
			BigDecimal.class, UUID.class, Instant.class, LocalDate.class, LocalTime.class, LocalDateTime.class,
			OffsetDateTime.class, OffsetTime.class, ZonedDateTime.class, Duration.class, Period.class, Year.class,
			YearMonth.class, MonthDay.class, ZoneOffset.class);

	private ImmutableValues() {
	}

	/**
	 * Whether the value can never differ from what it was deserialized from.
	 * @param value an attribute value
	 * @return {@code true} for JDK value types and enum constants
	 */
	static boolean isImmutable(Object value) {
		return TYPES.contains(value.getClass()) || value instanceof Enum<?>;
	}

}
