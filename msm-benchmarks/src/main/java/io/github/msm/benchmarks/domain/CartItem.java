package io.github.msm.benchmarks.domain;

import java.io.Serializable;
import java.math.BigDecimal;

/** One line of a {@link Cart}. */
public record CartItem(String sku, String title, int quantity, BigDecimal unitPrice) implements Serializable {
}
