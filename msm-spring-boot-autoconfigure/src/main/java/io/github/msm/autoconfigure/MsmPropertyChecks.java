package io.github.msm.autoconfigure;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import io.github.msm.session.node.NodeRing;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.util.unit.DataSize;

/**
 * Checks {@code msm.*} values at startup, so that a bad value stops the application
 * with a message naming the property instead of failing on the first request.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class MsmPropertyChecks {

	private static final Pattern PACKAGE = Pattern.compile("[A-Za-z_$][\\w$]*(\\.[A-Za-z_$][\\w$]*)*");

	private MsmPropertyChecks() {
	}

	static NodeRing nodeRing(List<String> nodes) {
		String value = String.join(" ", nodes);
		try {
			return NodeRing.parse(nodes);
		}
		catch (IllegalArgumentException ex) {
			throw invalid("msm.nodes", value, ex.getMessage());
		}
	}

	static NodeRing withFailoverNodes(NodeRing ring, List<String> failoverNodes) {
		try {
			return ring.withFailoverNodes(failoverNodes);
		}
		catch (IllegalArgumentException ex) {
			throw invalid("msm.failover-nodes", String.join(" ", failoverNodes), ex.getMessage());
		}
	}

	static Duration operationTimeout(Duration timeout) {
		if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(Duration.ofMinutes(1)) > 0) {
			throw invalid("msm.operation-timeout", timeout, quote(timeout) + " must be more than 0 and at most 1 minute");
		}
		return timeout;
	}

	/**
	 * Hands a value to a setter that validates it, turning its refusal into a failure
	 * that names the property, so the rule lives once, in the store.
	 */
	static <T> void apply(String name, T value, Consumer<T> setter) {
		try {
			setter.accept(value);
		}
		catch (IllegalArgumentException ex) {
			throw invalid(name, value, ex.getMessage());
		}
	}

	static int maxItemSize(DataSize size) {
		if (size.toBytes() < 1024 || size.toBytes() > DataSize.ofMegabytes(1024).toBytes()) {
			throw invalid("msm.max-item-size", size, quote(size) + " must be between 1KB and 1024MB, as memcached's -I");
		}
		return (int) size.toBytes();
	}

	static List<String> allowedPackages(List<String> packages) {
		for (String name : packages) {
			if (!PACKAGE.matcher(name).matches()) {
				throw invalid("msm.serialization.allowed-packages", name, quote(name) + " is not a package name");
			}
		}
		return packages;
	}

	/**
	 * The attribute filter as a pattern, {@code null} when empty (every attribute stored).
	 */
	static @Nullable Pattern attributeFilter(String regex) {
		if (regex.isEmpty()) {
			return null;
		}
		try {
			return Pattern.compile(regex);
		}
		catch (PatternSyntaxException ex) {
			throw invalid("msm.attribute-filter", regex,
					quote(regex) + " is not a regular expression: " + ex.getDescription());
		}
	}

	private static InvalidConfigurationPropertyValueException invalid(String name, Object value, String reason) {
		return new InvalidConfigurationPropertyValueException(name, value, name + ": " + reason);
	}

	private static String quote(Object value) {
		return "'" + value + "'";
	}

}
