package io.github.msm.sample;

import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.search.Search;
import org.jspecify.annotations.Nullable;

import org.springframework.context.ConfigurableApplicationContext;

/**
 * The store's Micrometer counters read from each app instance: one value per instance,
 * by label (the counter's name, or {@code name{tag value}} for a counter narrowed to one
 * tag), in the order they were asked for.
 */
final class StoreCounters {

	private final Map<String, double[]> values;

	private StoreCounters(Map<String, double[]> values) {
		this.values = values;
	}

	/**
	 * The counters now. A value is the sum of the counters that match, or NaN where an
	 * instance has none (so that a check on it fails).
	 */
	static StoreCounters read(List<ConfigurableApplicationContext> apps, List<Name> names) {
		Map<String, double[]> values = new LinkedHashMap<>();
		for (Name name : names) {
			double[] perInstance = new double[apps.size()];
			for (int i = 0; i < apps.size(); i++) {
				perInstance[i] = name.valueIn(apps.get(i).getBean(MeterRegistry.class));
			}
			values.put(name.label(), perInstance);
		}
		return new StoreCounters(values);
	}

	/** What each counter of each instance counted since {@code before}. */
	StoreCounters since(StoreCounters before) {
		Map<String, double[]> delta = new LinkedHashMap<>();
		this.values.forEach((label, values) -> {
			double[] difference = values.clone();
			for (int i = 0; i < difference.length; i++) {
				difference[i] -= before.values.get(label)[i];
			}
			delta.put(label, difference);
		});
		return new StoreCounters(delta);
	}

	/** The counter summed over the instances. */
	double sum(String label) {
		return Arrays.stream(this.values.get(label)).sum();
	}

	/** {@code " label=sum[app1, app2]"} for each counter, for a report line. */
	String format() {
		StringBuilder line = new StringBuilder();
		this.values.forEach((label, values) -> line.append(' ')
			.append(label)
			.append('=')
			.append((long) sum(label))
			.append(Arrays.toString(Arrays.stream(values).mapToLong((v) -> (long) v).toArray())));
		return line.toString();
	}

	/** A counter to read: its name and, optionally, one tag. */
	record Name(String name, @Nullable String tagKey, @Nullable String tagValue) {

		static Name of(String name) {
			return new Name(name, null, null);
		}

		static Name of(String name, String tagKey, String tagValue) {
			return new Name(name, tagKey, tagValue);
		}

		String label() {
			return (this.tagKey != null) ? this.name + "{" + this.tagValue + "}" : this.name;
		}

		double valueIn(MeterRegistry registry) {
			Search search = registry.find(this.name);
			if (this.tagKey != null && this.tagValue != null) {
				search = search.tag(this.tagKey, this.tagValue);
			}
			Collection<Counter> counters = search.counters();
			return counters.isEmpty() ? Double.NaN : counters.stream().mapToDouble(Counter::count).sum();
		}

	}

}
