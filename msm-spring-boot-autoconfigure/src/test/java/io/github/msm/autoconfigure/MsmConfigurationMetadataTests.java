package io.github.msm.autoconfigure;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import org.springframework.beans.BeanWrapper;
import org.springframework.beans.PropertyAccessorFactory;
import org.springframework.core.io.ClassPathResource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The IDE help of every {@code msm.*} property, as the configuration processor generated
 * it from the Javadoc of {@link MsmProperties} and the additional metadata.
 */
class MsmConfigurationMetadataTests {

	private final JsonNode metadata = read();

	@Test
	void everyProperty_ShouldHaveADescription() {
		List<String> undocumented = msmProperties().stream()
			.filter((property) -> property.path("description").asString("").isBlank())
			.map((property) -> property.get("name").asString())
			.toList();
		assertThat(msmProperties()).isNotEmpty();
		assertThat(undocumented).isEmpty();
	}

	@Test
	void everyPropertyWithADefault_ShouldShowIt() {
		// each property is read from a fresh instance of the class that declares it, under
		// that class's prefix (msm, msm.sticky, ...)
		Map<String, String> prefixes = new java.util.HashMap<>();
		this.metadata.path("groups").forEach((group) -> prefixes.putIfAbsent(group.get("type").asString(),
				group.get("name").asString()));
		List<String> missing = new ArrayList<>();
		for (JsonNode property : msmProperties()) {
			String name = property.get("name").asString();
			String type = property.path("sourceType").asString(MsmProperties.class.getName());
			String prefix = prefixes.getOrDefault(type, "msm");
			BeanWrapper defaults = PropertyAccessorFactory.forBeanPropertyAccess(instantiate(type));
			Object value = defaults.getPropertyValue(javaPath(name.substring(prefix.length() + 1)));
			if (hasDefault(value) && !property.has("defaultValue")) {
				missing.add(name);
			}
		}
		assertThat(missing).isEmpty();
	}

	@Test
	void enumLikeProperties_ShouldHintTheirValues() {
		Map<String, List<String>> hints = new java.util.LinkedHashMap<>();
		this.metadata.path("hints").forEach((hint) -> hints.put(hint.get("name").asString(),
				hint.path("values").findValuesAsString("value")));
		assertThat(hints).containsEntry("msm.protocol", List.of("binary", "text"))
			.containsEntry("msm.serializer", List.of("kryo", "jdk"))
			.containsEntry("msm.locking-mode", List.of("none", "all", "auto", "uri-pattern"))
			.containsEntry("msm.flush-mode", List.of("on-save", "immediate"));
	}

	private static Object instantiate(String type) {
		try {
			return org.springframework.beans.BeanUtils.instantiateClass(Class.forName(type));
		}
		catch (ClassNotFoundException ex) {
			throw new IllegalStateException(ex);
		}
	}

	private List<JsonNode> msmProperties() {
		List<JsonNode> properties = new ArrayList<>();
		this.metadata.path("properties").forEach((property) -> {
			if (property.get("name").asString().startsWith("msm.")) {
				properties.add(property);
			}
		});
		return properties;
	}

	private static boolean hasDefault(Object value) {
		if (value == null) {
			return false;
		}
		if (value instanceof Collection<?> collection) {
			return !collection.isEmpty();
		}
		return !(value instanceof CharSequence text) || !text.isEmpty();
	}

	/** {@code serialization.allowed-packages} → {@code serialization.allowedPackages}. */
	private static String javaPath(String kebab) {
		return java.util.Arrays.stream(kebab.split("\\."))
			.map((part) -> {
				String[] words = part.split("-");
				StringBuilder camel = new StringBuilder(words[0]);
				for (int i = 1; i < words.length; i++) {
					camel.append(Character.toUpperCase(words[i].charAt(0))).append(words[i].substring(1));
				}
				return camel.toString();
			})
			.collect(Collectors.joining("."));
	}

	private static JsonNode read() {
		try (InputStream in = new ClassPathResource("META-INF/spring-configuration-metadata.json").getInputStream()) {
			return new ObjectMapper().readTree(in);
		}
		catch (IOException ex) {
			throw new IllegalStateException("No generated configuration metadata", ex);
		}
	}

}
