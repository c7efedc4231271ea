package io.github.msm.session.serializer;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import io.github.msm.session.serializer.untrusted.Decoy1;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link KryoUnmodifiableSerializers} and the pooled output buffers of
 * {@link KryoSessionSerializer}: the read-only views Spring Security keeps are written by
 * Kryo, legacy Java-serialized ones are still read, and neither gets around the limits.
 */
class KryoUnmodifiableSerializersTests {

	/** Java serialization's stream magic, written before the first Java-serialized value. */
	private static final byte[] JAVA_STREAM_MAGIC = { (byte) 0xAC, (byte) 0xED };

	private final KryoSessionSerializer serializer = new KryoSessionSerializer(
			SerializerTestSupport.strictAllowList(), getClass().getClassLoader());

	static Stream<Named<Object>> views() {
		return Stream.of(Named.of("unmodifiableList", Collections.unmodifiableList(new ArrayList<>(List.of(3, 1, 2)))),
				Named.of("unmodifiableList of LinkedList",
						Collections.unmodifiableList(new LinkedList<>(List.of("a", "b")))),
				Named.of("unmodifiableCollection", Collections.unmodifiableCollection(new ArrayList<>(List.of(1, 1)))),
				Named.of("unmodifiableSet", Collections.unmodifiableSet(new LinkedHashSet<>(List.of("z", "a", "m")))),
				Named.of("unmodifiableSortedSet", Collections.unmodifiableSortedSet(new TreeSet<>(Set.of(5, 2, 9)))),
				Named.of("unmodifiableNavigableSet",
						Collections.unmodifiableNavigableSet(new TreeSet<>(Set.of("b", "a")))),
				Named.of("unmodifiableMap", Collections.unmodifiableMap(new LinkedHashMap<>(Map.of("k", 1)))),
				Named.of("unmodifiableSortedMap", Collections.unmodifiableSortedMap(new TreeMap<>(Map.of(2, "b", 1, "a")))),
				Named.of("unmodifiableNavigableMap",
						Collections.unmodifiableNavigableMap(new TreeMap<>(Map.of("x", 1L)))),
				Named.of("Spring Security context", SerializerTestSupport.securityContext()));
	}

	@ParameterizedTest
	@MethodSource("views")
	void serialize_UnmodifiableView_ShouldNotUseJavaSerialization(Object value) {
		byte[] bytes = this.serializer.serialize(value);

		assertThat(indexOf(bytes, JAVA_STREAM_MAGIC)).isEqualTo(-1);
	}

	@ParameterizedTest
	@MethodSource("views")
	void deserialize_UnmodifiableView_ShouldReturnEqualValueOfTheSameClass(Object value) {
		Object restored = this.serializer.deserialize(this.serializer.serialize(value));

		assertThat(comparable(restored)).isEqualTo(comparable(value));
		if (value instanceof Collection<?> collection) {
			assertThat(restored.getClass()).isEqualTo(expectedViewClass(collection));
			assertThat(new ArrayList<Object>((Collection<?>) restored)).containsExactlyElementsOf(collection);
		}
	}

	@Test
	void deserialize_UnmodifiableView_ShouldStayUnmodifiable() {
		List<Integer> value = Collections.unmodifiableList(new ArrayList<>(List.of(1)));

		List<Integer> restored = (List<Integer>) this.serializer.deserialize(this.serializer.serialize(value));

		assertThatExceptionOfType(UnsupportedOperationException.class).isThrownBy(() -> restored.add(2));
	}

	@Test
	void deserialize_SortedViewWithComparator_ShouldKeepTheComparator() {
		SortedSet<Integer> set = new TreeSet<>(Comparator.reverseOrder());
		set.addAll(List.of(1, 3, 2));
		SortedMap<String, Integer> map = new TreeMap<>(Comparator.reverseOrder());
		map.putAll(Map.of("a", 1, "c", 3));

		SortedSet<Integer> restoredSet = (SortedSet<Integer>) this.serializer
			.deserialize(this.serializer.serialize(Collections.unmodifiableSortedSet(set)));
		SortedMap<String, Integer> restoredMap = (SortedMap<String, Integer>) this.serializer
			.deserialize(this.serializer.serialize(Collections.unmodifiableSortedMap(map)));

		assertThat(restoredSet).containsExactly(3, 2, 1);
		assertThat(restoredSet.comparator()).isEqualTo(Comparator.reverseOrder());
		assertThat(restoredMap.keySet()).containsExactly("c", "a");
	}

	@Test
	void deserialize_ViewContainingItself_ShouldRestoreTheCycle() {
		List<Object> inner = new ArrayList<>();
		List<Object> view = Collections.unmodifiableList(inner);
		inner.add("head");
		inner.add(view);

		List<Object> restored = (List<Object>) this.serializer.deserialize(this.serializer.serialize(view));

		assertThat(restored.get(0)).isEqualTo("head");
		assertThat(restored.get(1)).isSameAs(restored);
	}

	@ParameterizedTest
	@MethodSource("views")
	void deserialize_LegacyJavaSerializedView_ShouldReturnEqualValue(Object value) {
		byte[] legacy = KryoLegacyBytes.serialize(SerializerTestSupport.strictAllowList(), value);

		assertThat(comparable(this.serializer.deserialize(legacy))).isEqualTo(comparable(value));
	}

	@Test
	void deserialize_ViewWithHugeSize_ShouldThrowBeforeAllocating() {
		byte[] bytes = KryoCraftedBytes.crafted(Collections.unmodifiableList(new ArrayList<>()).getClass().getName(),
				(output) -> {
					output.writeByte(KryoUnmodifiableSerializers.FORMAT);
					output.writeVarInt(Integer.MAX_VALUE, true);
				});

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(bytes))
			.withMessageContaining("Invalid length");
	}

	@Test
	void deserialize_SortedViewWithNonComparator_ShouldThrow() {
		byte[] bytes = KryoCraftedBytes.crafted(Collections.unmodifiableSortedSet(new TreeSet<>()).getClass().getName(),
				(output) -> {
					output.writeByte(KryoUnmodifiableSerializers.FORMAT);
					output.writeVarInt(1 + 2, true); // String, registered by Kryo with id 1
					output.writeVarInt(1, true); // a new object
					output.writeString("not a comparator");
					output.writeVarInt(0, true);
				});

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(bytes))
			.withMessageContaining("Expected a Comparator");
	}

	@Test
	void serialize_SmallValueAfterValueLargerThanKeptBuffer_ShouldReturnOnlyTheSmallValue() {
		String large = "x".repeat(KryoSessionSerializer.MAX_KEPT_BUFFER_SIZE * 2);
		this.serializer.serialize(large);

		byte[] bytes = this.serializer.serialize("small");

		assertThat(this.serializer.deserialize(bytes)).isEqualTo("small");
		assertThat(bytes.length).isLessThan(16);
	}

	@Test
	void serialize_ValueAfterFailedSerialize_ShouldReturnOnlyThatValue() {
		List<Object> refused = new ArrayList<>(List.of("before", new Decoy1()));
		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.serialize(refused));

		Object restored = this.serializer.deserialize(this.serializer.serialize(List.of("after")));

		assertThat(restored).isEqualTo(List.of("after"));
	}

	@Test
	void serialize_ManyThreadsAtOnce_ShouldEachGetTheirOwnBytes() throws Exception {
		ExecutorService executor = Executors.newFixedThreadPool(32);
		try {
			List<Future<Boolean>> results = new ArrayList<>();
			for (int thread = 0; thread < 32; thread++) {
				int id = thread;
				results.add(executor.submit(() -> {
					for (int i = 0; i < 200; i++) {
						List<String> value = Collections.unmodifiableList(List.of("t" + id, "i" + i, "p".repeat(id * 100)));
						if (!value.equals(this.serializer.deserialize(this.serializer.serialize(value)))) {
							return false;
						}
					}
					return true;
				}));
			}
			for (Future<Boolean> result : results) {
				assertThat(result.get()).isTrue();
			}
		}
		finally {
			executor.shutdownNow();
		}
	}

	/**
	 * The value, or the elements of a plain collection view, which has identity equality.
	 */
	private static Object comparable(Object value) {
		if (value instanceof Collection<?> collection && !(value instanceof List<?>) && !(value instanceof Set<?>)) {
			return new ArrayList<Object>(collection);
		}
		return value;
	}

	private static Class<?> expectedViewClass(Collection<?> value) {
		if (value instanceof List<?>) {
			return Collections.unmodifiableList(new ArrayList<>()).getClass();
		}
		if (value instanceof Set<?> && !(value instanceof SortedSet<?>)) {
			return Collections.unmodifiableSet(new LinkedHashSet<>()).getClass();
		}
		return value.getClass();
	}

	private static int indexOf(byte[] bytes, byte[] part) {
		for (int i = 0; i + part.length <= bytes.length; i++) {
			if (bytes[i] == part[0] && bytes[i + 1] == part[1]) {
				return i;
			}
		}
		return -1;
	}

}
