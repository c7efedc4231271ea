package io.github.msm.benchmarks.domain;

import java.io.Serializable;
import java.time.LocalDate;
import java.util.UUID;

/** The signed-in customer as a shop keeps it in the session. */
public record Customer(UUID id, String name, String email, LocalDate memberSince, Address billing,
		Address shipping) implements Serializable {
}
