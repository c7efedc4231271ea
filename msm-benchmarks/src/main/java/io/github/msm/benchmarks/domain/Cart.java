package io.github.msm.benchmarks.domain;

import java.io.Serial;
import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** A mutable shopping cart, as applications keep one: a class, not a record. */
public class Cart implements Serializable {

	@Serial
	private static final long serialVersionUID = 1L;

	private final List<CartItem> items = new ArrayList<>();

	private Instant updated = Instant.EPOCH;

	public List<CartItem> getItems() {
		return this.items;
	}

	public Instant getUpdated() {
		return this.updated;
	}

	public void add(CartItem item, Instant when) {
		this.items.add(item);
		this.updated = when;
	}

}
