package io.github.msm.benchmarks.domain;

import java.io.Serializable;

/** A postal address, part of {@link Customer}. */
public record Address(String street, String city, String postalCode, String country) implements Serializable {
}
