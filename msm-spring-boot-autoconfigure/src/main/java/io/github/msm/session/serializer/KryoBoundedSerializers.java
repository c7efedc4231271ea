package io.github.msm.session.serializer;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.serializers.CollectionSerializer;
import com.esotericsoftware.kryo.serializers.DefaultArraySerializers.BooleanArraySerializer;
import com.esotericsoftware.kryo.serializers.DefaultArraySerializers.ObjectArraySerializer;
import com.esotericsoftware.kryo.serializers.DefaultArraySerializers.StringArraySerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.ArraysAsListSerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.PriorityQueueSerializer;
import com.esotericsoftware.kryo.serializers.ImmutableCollectionsSerializers.JdkImmutableListSerializer;
import com.esotericsoftware.kryo.serializers.MapSerializer;
import org.jspecify.annotations.Nullable;

/**
 * Variants of Kryo's default serializers that charge the length they read to the
 * {@link KryoBoundedInput} before allocating anything of that size.
 *
 * <p>
 * Only serializers that size an allocation from a length prefix need a variant; the
 * others grow with the elements actually read. Serializers that Kryo's default
 * serializer lookup would create are swapped by {@link #bound(Kryo, Class, Serializer)},
 * so the variants apply to every type, including implicitly registered ones.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class KryoBoundedSerializers {

	private KryoBoundedSerializers() {
	}

	/**
	 * Return a bounded variant of the given serializer, or the serializer itself if it
	 * allocates nothing from a length prefix.
	 * @param kryo the Kryo the serializer is for
	 * @param type the type the serializer is for
	 * @param serializer the serializer Kryo chose
	 * @return the serializer to use
	 */
	static Serializer<?> bound(Kryo kryo, Class<?> type, Serializer<?> serializer) {
		Class<?> serializerType = serializer.getClass();
		if (serializerType == CollectionSerializer.class) {
			return new BoundedCollectionSerializer<>();
		}
		if (serializerType == MapSerializer.class) {
			return new BoundedMapSerializer<>();
		}
		if (serializerType == ArraysAsListSerializer.class) {
			return new BoundedArraysAsListSerializer();
		}
		if (serializerType == PriorityQueueSerializer.class) {
			return new BoundedPriorityQueueSerializer();
		}
		if (serializerType == JdkImmutableListSerializer.class) {
			return new BoundedImmutableListSerializer();
		}
		if (serializerType == ObjectArraySerializer.class) {
			return new BoundedObjectArraySerializer(kryo, type);
		}
		if (serializerType == StringArraySerializer.class) {
			return new BoundedStringArraySerializer();
		}
		if (serializerType == BooleanArraySerializer.class) {
			return new BoundedBooleanArraySerializer();
		}
		return serializer;
	}

	/**
	 * Charge the length prefix of an array, without consuming it, since Kryo's array
	 * serializers read it themselves.
	 */
	private static void claimArrayLength(Input input) {
		int start = input.position();
		int length = input.readVarInt(true); // 0: null, n: n - 1 elements
		input.setPosition(start);
		KryoBoundedInput.claim(input, (length > 0) ? length - 1 : length);
	}

	static class BoundedCollectionSerializer<T extends Collection> extends CollectionSerializer<T> {

		@Override
		protected T create(Kryo kryo, Input input, Class<? extends T> type, int size) {
			KryoBoundedInput.claim(input, size);
			return super.create(kryo, input, type, size);
		}

	}

	static final class BoundedMapSerializer<T extends Map> extends MapSerializer<T> {

		@Override
		protected T create(Kryo kryo, Input input, Class<? extends T> type, int size) {
			KryoBoundedInput.claim(input, size);
			return super.create(kryo, input, type, size);
		}

	}

	static final class BoundedArraysAsListSerializer extends ArraysAsListSerializer {

		@Override
		protected List create(Kryo kryo, Input input, Class type, int size) {
			KryoBoundedInput.claim(input, size);
			return super.create(kryo, input, type, size);
		}

	}

	static final class BoundedPriorityQueueSerializer extends PriorityQueueSerializer {

		@Override
		protected PriorityQueue create(Kryo kryo, Input input, Class<? extends PriorityQueue> type, int size) {
			KryoBoundedInput.claim(input, size);
			return super.create(kryo, input, type, size);
		}

	}

	/**
	 * Replaces Kryo's {@code JdkImmutableListSerializer} (a final class) for
	 * {@code List.of(...)}; same wire format.
	 */
	static final class BoundedImmutableListSerializer extends BoundedCollectionSerializer<List<Object>> {

		BoundedImmutableListSerializer() {
			setElementsCanBeNull(false);
		}

		@Override
		protected List<Object> create(Kryo kryo, Input input, Class<? extends List<Object>> type, int size) {
			KryoBoundedInput.claim(input, size);
			return new ArrayList<>(size);
		}

		@Override
		public @Nullable List<Object> read(Kryo kryo, Input input, Class<? extends List<Object>> type) {
			List<Object> list = super.read(kryo, input, type);
			return (list != null) ? List.of(list.toArray()) : null;
		}

	}

	static final class BoundedObjectArraySerializer extends ObjectArraySerializer {

		BoundedObjectArraySerializer(Kryo kryo, Class<?> type) {
			super(kryo, type);
		}

		@Override
		public Object[] read(Kryo kryo, Input input, Class type) {
			claimArrayLength(input);
			return super.read(kryo, input, type);
		}

	}

	static final class BoundedStringArraySerializer extends StringArraySerializer {

		@Override
		public String[] read(Kryo kryo, Input input, Class type) {
			claimArrayLength(input);
			return super.read(kryo, input, type);
		}

	}

	static final class BoundedBooleanArraySerializer extends BooleanArraySerializer {

		@Override
		public boolean[] read(Kryo kryo, Input input, Class type) {
			claimArrayLength(input);
			return super.read(kryo, input, type);
		}

	}

}
