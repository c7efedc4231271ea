package io.github.msm.session.serializer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Output;
import io.github.msm.session.serializer.SerializerTestSupport.RecordingClassLoader;
import io.github.msm.session.serializer.testapp.Cart;
import io.github.msm.session.serializer.testapp.Customer;
import io.github.msm.session.serializer.testapp.Node;
import io.github.msm.session.serializer.untrusted.Decoy1;
import io.github.msm.session.serializer.untrusted.GadgetEvents;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link KryoSessionSerializer}. The behaviour it shares with every serializer
 * is tested by {@link SessionSerializerContractTests}; these tests cover Kryo's class
 * registration, its Java-serialized fallback (and the views that used to take it) and
 * hand-written Kryo bytes.
 */
class KryoSessionSerializerTests extends SessionSerializerContractTests {

	private final KryoSessionSerializer serializer = new KryoSessionSerializer(
			SerializerTestSupport.strictAllowList(), getClass().getClassLoader());

	@Override
	KryoSessionSerializer createSerializer(ClassAllowList allowList, ClassLoader classLoader) {
		return new KryoSessionSerializer(allowList, classLoader);
	}

	@Override
	byte[] serializeWithoutLimits(Object value) {
		return CraftedGraphs.kryoBytes(value);
	}

	@Test
	void id_ShouldBeOne() {
		assertThat(this.serializer.id()).isEqualTo((byte) 1);
	}

	@Test
	void deserialize_BytesOfServerWithOtherRegistrationOrder_ShouldReadTheSameValue() {
		KryoSessionSerializer writer = new KryoSessionSerializer(SerializerTestSupport.strictAllowList(),
				getClass().getClassLoader(), (kryo) -> register(kryo, Customer.class, Cart.class, Node.class));
		KryoSessionSerializer reader = new KryoSessionSerializer(SerializerTestSupport.strictAllowList(),
				getClass().getClassLoader(), (kryo) -> register(kryo, Node.class, Cart.class, Customer.class));
		List<Object> value = new ArrayList<>(List.of(new Customer("alice", "vip"), new Cart("c-1", 2, null)));

		Object restored = reader.deserialize(writer.serialize(value));

		assertThat(restored).isEqualTo(value);
	}

	@Test
	void serialize_ClassOutsideAllowListInsideJavaSerializedWrapper_ShouldThrow() {
		List<Object> value = Collections.unmodifiableList(new ArrayList<>(List.of(new Decoy1())));

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.serialize(value))
			.withMessageContaining(SerializerTestSupport.DECOY1);
	}

	@Test
	void deserialize_ClassOutsideAllowListInsideUnmodifiableView_ShouldThrowWithoutLoadingIt() {
		RecordingClassLoader classLoader = new RecordingClassLoader();
		KryoSessionSerializer strict = new KryoSessionSerializer(SerializerTestSupport.strictAllowList(),
				classLoader);
		List<Object> value = Collections.unmodifiableList(new ArrayList<>(List.of(new Decoy1())));
		byte[] bytes = SerializerTestSupport.replaceClassName(permissive().serialize(value),
				SerializerTestSupport.DECOY1, GadgetEvents.GADGET_CLASS_NAME);

		assertThatExceptionOfType(SessionSerializationException.class).isThrownBy(() -> strict.deserialize(bytes));
		assertThat(classLoader.getRequested()).doesNotContain(GadgetEvents.GADGET_CLASS_NAME);
		assertThat(GadgetEvents.INITIALIZED).isFalse();
		assertThat(GadgetEvents.CONSTRUCTED).isFalse();
		assertThat(GadgetEvents.READ).isFalse();
	}

	@Test
	void deserialize_ClassOutsideAllowListInsideLegacyJavaSerializedView_ShouldThrowWithoutLoadingIt() {
		RecordingClassLoader classLoader = new RecordingClassLoader();
		KryoSessionSerializer strict = new KryoSessionSerializer(SerializerTestSupport.strictAllowList(),
				classLoader);
		List<Object> value = Collections.unmodifiableList(new ArrayList<>(List.of(new Decoy1())));
		byte[] legacy = KryoLegacyBytes.serialize(SerializerTestSupport.permissiveAllowList(), value);
		byte[] bytes = SerializerTestSupport.replaceClassName(legacy,
				SerializerTestSupport.DECOY1, GadgetEvents.GADGET_CLASS_NAME);

		assertThatExceptionOfType(SessionSerializationException.class).isThrownBy(() -> strict.deserialize(bytes));
		assertThat(classLoader.getRequested()).doesNotContain(GadgetEvents.GADGET_CLASS_NAME);
		assertThat(GadgetEvents.INITIALIZED).isFalse();
		assertThat(GadgetEvents.CONSTRUCTED).isFalse();
		assertThat(GadgetEvents.READ).isFalse();
	}

	@Test
	void deserialize_UnexpectedRegistrationId_ShouldThrow() {
		byte[] bytes = { 12, 1 };

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(bytes))
			.withMessageContaining("class ID 10");
	}

	@ParameterizedTest
	@MethodSource("io.github.msm.session.serializer.KryoCraftedBytes#hugeLengths")
	void deserialize_HugeLengthPrefix_ShouldThrowSessionSerializationException(byte[] bytes) {
		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(bytes));
	}

	@Test
	void deserialize_CraftedListOfValidLength_ShouldReturnList() {
		byte[] bytes = KryoCraftedBytes.crafted("java.util.ArrayList", (output) -> output.writeVarIntFlag(false, 1, true));

		assertThat(this.serializer.deserialize(bytes)).isEqualTo(List.of());
	}

	@Test
	void deserialize_NestedArraysClaimingTheSameBytes_ShouldThrow() {
		int depth = 100;
		Output output = new Output(64, -1);
		for (int i = 0; i < depth; i++) {
			KryoCraftedBytes.writeClassName(output, i, "[Ljava.lang.Object;");
			output.writeVarInt(1, true); // a new object
			output.writeVarInt(1000 + 1, true); // 1000 elements, the first of which follows
		}
		byte[] bytes = output.toBytes();

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(bytes))
			.withMessageContaining("cannot hold that many elements");
	}

	@Test
	void deserialize_GraphDeeperThanLimit_ShouldThrow() {
		Kryo kryo = SessionKryo.create(SerializerTestSupport.strictAllowList(), getClass().getClassLoader());
		kryo.setMaxDepth(10_000);
		Output output = new Output(4096, -1);
		kryo.writeClassAndObject(output, SerializerTestSupport.nestedLists(DeserializationLimits.MAX_DEPTH + 10));

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(output.toBytes()))
			.withMessageContaining("Max depth exceeded");
	}

	@Test
	void deserialize_CollectionLongerThanLimit_ShouldThrowNamingTheLimit() {
		byte[] bytes = KryoCraftedBytes.crafted("java.util.ArrayList",
				// 0 stands for null, so n + 1 for n elements
				(output) -> output.writeVarIntFlag(false, DeserializationLimits.MAX_COLLECTION_ELEMENTS + 2, true));

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(bytes))
			.withMessageContaining("at most " + DeserializationLimits.MAX_COLLECTION_ELEMENTS);
	}

	@Test
	void deserialize_DepthContinuedInsideLegacyJavaSerializedView_ShouldThrow() {
		int half = DeserializationLimits.MAX_DEPTH / 2 + 1;
		List<Object> inner = SerializerTestSupport.nestedLists(half);
		List<Object> outer = SerializerTestSupport.nestedLists(half);
		List<Object> deepest = outer;
		while (!deepest.isEmpty()) {
			deepest = (List<Object>) deepest.get(0);
		}
		deepest.add(Collections.unmodifiableList(inner));
		byte[] bytes = KryoLegacyBytes.serialize(SerializerTestSupport.strictAllowList(), outer);

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(bytes));
	}

	@Test
	void deserialize_NullEncoded_ShouldThrow() {
		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(new byte[] { 0 }));
	}

	private static void register(Kryo kryo, Class<?>... types) {
		for (Class<?> type : types) {
			kryo.register(type);
		}
	}

	private static KryoSessionSerializer permissive() {
		return new KryoSessionSerializer(SerializerTestSupport.permissiveAllowList(),
				KryoSessionSerializerTests.class.getClassLoader());
	}

}
