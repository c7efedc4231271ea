package io.github.msm.session.serializer.testapp;

import java.io.Serializable;
import java.math.BigDecimal;

/**
 * A Java record, as applications increasingly store them.
 */
public record Cart(String id, int items, BigDecimal total) implements Serializable {

}
