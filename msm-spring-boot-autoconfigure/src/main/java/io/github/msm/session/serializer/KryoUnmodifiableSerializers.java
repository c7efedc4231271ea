package io.github.msm.session.serializer;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import org.jspecify.annotations.Nullable;

/**
 * Kryo serializers for the read-only views of {@code Collections.unmodifiable*(...)},
 * which Spring Security's tokens and users hold, so that they no longer go through Java
 * serialization (several times slower and larger).
 *
 * <p>
 * Kryo cannot reach the wrapped collection of such a view ({@code java.base} is not open
 * to it), so the serializers write what the view shows: for sorted views the comparator,
 * then the size and the elements (keys and values), every one through Kryo and so through
 * its {@link ClassAllowList}-checked class resolver. A read charges the size to the
 * {@link KryoBoundedInput} before it allocates, wraps a new collection of the same kind
 * ({@code ArrayList}, {@code LinkedHashSet} keeping the order, {@code TreeSet} or
 * {@code TreeMap} with the comparator, {@code LinkedHashMap}) in the same kind of view,
 * and registers the view as the reference before the elements are read, so cycles
 * through it resolve as they did with Java serialization. The wrapped collection's own
 * class is not kept: an unmodifiable view of a {@code LinkedList} comes back as one of an
 * {@code ArrayList}, which no caller can tell apart through the view but by
 * {@code RandomAccess}.
 *
 * <p>
 * Sessions written before these serializers existed hold such views as Java-serialized
 * bytes. Java serialization starts every value with its stream magic ({@code 0xAC}) or a
 * type code ({@code 0x70}-{@code 0x7E}); these serializers start with {@link #FORMAT},
 * so a read that meets any other first byte hands the value to the allow-list Java
 * serializer, as before. Servers of an older version cannot read the new format: during a
 * rolling upgrade they lose such attributes of sessions a new server wrote.
 *
 * @author msm-spring-boot
 * @since 0.2.0
 */
final class KryoUnmodifiableSerializers {

	/**
	 * First byte of every value these serializers write.
	 */
	static final byte FORMAT = 1;

	private KryoUnmodifiableSerializers() {
	}

	/**
	 * The serializers by the exact class of the view they handle.
	 * @param legacy the serializer that reads views written by Java serialization
	 * @return a new map, for one Kryo
	 */
	static Map<Class<?>, Serializer<?>> create(Serializer<Object> legacy) {
		Map<Class<?>, Serializer<?>> serializers = new IdentityHashMap<>();
		serializers.put(Collections.unmodifiableCollection(new ArrayList<>()).getClass(),
				new CollectionView(legacy, (comparator) -> new ArrayList<>(), Collections::unmodifiableCollection));
		serializers.put(Collections.unmodifiableList(new ArrayList<>()).getClass(),
				new CollectionView(legacy, (comparator) -> new ArrayList<>(),
						(list) -> Collections.unmodifiableList((ArrayList<Object>) list)));
		serializers.put(Collections.unmodifiableList(new LinkedList<>()).getClass(),
				new CollectionView(legacy, (comparator) -> new ArrayList<>(),
						(list) -> Collections.unmodifiableList((ArrayList<Object>) list)));
		serializers.put(Collections.unmodifiableSet(new LinkedHashSet<>()).getClass(),
				new CollectionView(legacy, (comparator) -> new LinkedHashSet<>(),
						(set) -> Collections.unmodifiableSet((LinkedHashSet<Object>) set)));
		serializers.put(Collections.unmodifiableSortedSet(new TreeSet<>()).getClass(), new CollectionView(legacy,
				TreeSet::new, (set) -> Collections.unmodifiableSortedSet((TreeSet<Object>) set)));
		serializers.put(Collections.unmodifiableNavigableSet(new TreeSet<>()).getClass(), new CollectionView(legacy,
				TreeSet::new, (set) -> Collections.unmodifiableNavigableSet((TreeSet<Object>) set)));
		serializers.put(Collections.unmodifiableMap(new LinkedHashMap<>()).getClass(),
				new MapView(legacy, (comparator) -> new LinkedHashMap<>(), Collections::unmodifiableMap));
		serializers.put(Collections.unmodifiableSortedMap(new TreeMap<>()).getClass(), new MapView(legacy,
				TreeMap::new, (map) -> Collections.unmodifiableSortedMap((TreeMap<Object, Object>) map)));
		serializers.put(Collections.unmodifiableNavigableMap(new TreeMap<>()).getClass(), new MapView(legacy,
				TreeMap::new, (map) -> Collections.unmodifiableNavigableMap((TreeMap<Object, Object>) map)));
		return serializers;
	}

	private static @Nullable Comparator<Object> comparatorOf(Object view) {
		if (view instanceof SortedSet<?> set) {
			return asObjectComparator(set.comparator());
		}
		if (view instanceof SortedMap<?, ?> map) {
			return asObjectComparator(map.comparator());
		}
		return null;
	}

	@SuppressWarnings("unchecked") // the comparator of the elements written next to it
	private static @Nullable Comparator<Object> asObjectComparator(@Nullable Comparator<?> comparator) {
		return (Comparator<Object>) comparator;
	}

	/**
	 * Whether the value starts with {@link #FORMAT}; if not, the input is left where it
	 * was, at the start of Java-serialized bytes.
	 */
	private static boolean isKryoFormat(Input input) {
		int start = input.position();
		if (input.readByte() == FORMAT) {
			return true;
		}
		input.setPosition(start);
		return false;
	}

	@SuppressWarnings("unchecked") // a comparator read from the bytes, checked for its type
	private static @Nullable Comparator<Object> readComparator(Kryo kryo, Input input, boolean sorted) {
		if (!sorted) {
			return null;
		}
		Object comparator = kryo.readClassAndObject(input);
		if (comparator != null && !(comparator instanceof Comparator)) {
			throw new KryoException("Expected a Comparator, found " + comparator.getClass().getName());
		}
		return (Comparator<Object>) comparator;
	}

	private static int readSize(Input input) {
		int size = input.readVarInt(true);
		KryoBoundedInput.claim(input, size);
		return size;
	}

	/**
	 * A view over a collection: {@code FORMAT, [comparator], size, elements...}.
	 */
	private static final class CollectionView extends Serializer<Collection<Object>> {

		private final Serializer<Object> legacy;

		private final Function<@Nullable Comparator<Object>, Collection<Object>> factory;

		private final Function<Collection<Object>, Collection<Object>> wrapper;

		private final boolean sorted;

		CollectionView(Serializer<Object> legacy, Function<@Nullable Comparator<Object>, Collection<Object>> factory,
				Function<Collection<Object>, Collection<Object>> wrapper) {
			super(false);
			this.legacy = legacy;
			this.factory = factory;
			this.wrapper = wrapper;
			this.sorted = factory.apply(null) instanceof SortedSet;
		}

		@Override
		public void write(Kryo kryo, Output output, Collection<Object> view) {
			output.writeByte(FORMAT);
			if (this.sorted) {
				kryo.writeClassAndObject(output, comparatorOf(view));
			}
			output.writeVarInt(view.size(), true);
			for (Object element : view) {
				kryo.writeClassAndObject(output, element);
			}
		}

		@Override
		@SuppressWarnings("unchecked") // a legacy value of the class the bytes named
		public Collection<Object> read(Kryo kryo, Input input, Class<? extends Collection<Object>> type) {
			if (!isKryoFormat(input)) {
				return (Collection<Object>) this.legacy.read(kryo, input, (Class) type);
			}
			Collection<Object> target = this.factory.apply(readComparator(kryo, input, this.sorted));
			int size = readSize(input);
			Collection<Object> view = this.wrapper.apply(target);
			kryo.reference(view);
			for (int i = 0; i < size; i++) {
				target.add(kryo.readClassAndObject(input));
			}
			return view;
		}

	}

	/**
	 * A view over a map: {@code FORMAT, [comparator], size, (key, value)...}.
	 */
	private static final class MapView extends Serializer<Map<Object, Object>> {

		private final Serializer<Object> legacy;

		private final Function<@Nullable Comparator<Object>, Map<Object, Object>> factory;

		private final Function<Map<Object, Object>, Map<Object, Object>> wrapper;

		private final boolean sorted;

		MapView(Serializer<Object> legacy, Function<@Nullable Comparator<Object>, Map<Object, Object>> factory,
				Function<Map<Object, Object>, Map<Object, Object>> wrapper) {
			super(false);
			this.legacy = legacy;
			this.factory = factory;
			this.wrapper = wrapper;
			this.sorted = factory.apply(null) instanceof SortedMap;
		}

		@Override
		public void write(Kryo kryo, Output output, Map<Object, Object> view) {
			output.writeByte(FORMAT);
			if (this.sorted) {
				kryo.writeClassAndObject(output, comparatorOf(view));
			}
			output.writeVarInt(view.size(), true);
			for (Map.Entry<Object, Object> entry : view.entrySet()) {
				kryo.writeClassAndObject(output, entry.getKey());
				kryo.writeClassAndObject(output, entry.getValue());
			}
		}

		@Override
		@SuppressWarnings("unchecked") // a legacy value of the class the bytes named
		public Map<Object, Object> read(Kryo kryo, Input input, Class<? extends Map<Object, Object>> type) {
			if (!isKryoFormat(input)) {
				return (Map<Object, Object>) this.legacy.read(kryo, input, (Class) type);
			}
			Map<Object, Object> target = this.factory.apply(readComparator(kryo, input, this.sorted));
			int size = readSize(input);
			Map<Object, Object> view = this.wrapper.apply(target);
			kryo.reference(view);
			for (int i = 0; i < size; i++) {
				Object key = kryo.readClassAndObject(input);
				target.put(key, kryo.readClassAndObject(input));
			}
			return view;
		}

	}

}
