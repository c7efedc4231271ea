package io.github.msm.session.serializer.testapp;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A plain application class: no no-arg constructor, private final fields.
 */
public class Customer implements Serializable {

	private final String name;

	private final List<String> tags = new ArrayList<>();

	public Customer(String name, String... tags) {
		this.name = name;
		this.tags.addAll(List.of(tags));
	}

	public String getName() {
		return this.name;
	}

	public List<String> getTags() {
		return this.tags;
	}

	@Override
	public boolean equals(Object other) {
		return (other instanceof Customer customer) && this.name.equals(customer.name)
				&& this.tags.equals(customer.tags);
	}

	@Override
	public int hashCode() {
		return Objects.hash(this.name, this.tags);
	}

}
