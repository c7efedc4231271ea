package io.github.msm.session.serializer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;

import io.github.msm.session.serializer.testapp.NotSerializableThing;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link JdkSessionSerializer}. The behaviour it shares with every serializer is
 * tested by {@link SessionSerializerContractTests}; these tests cover the Java
 * serialization stream.
 */
class JdkSessionSerializerTests extends SessionSerializerContractTests {

	private final JdkSessionSerializer serializer = new JdkSessionSerializer(SerializerTestSupport.strictAllowList(),
			getClass().getClassLoader());

	@Override
	JdkSessionSerializer createSerializer(ClassAllowList allowList, ClassLoader classLoader) {
		return new JdkSessionSerializer(allowList, classLoader);
	}

	@Override
	byte[] serializeWithoutLimits(Object value) {
		return CraftedGraphs.jdkBytes(value);
	}

	@Test
	void id_ShouldBeTwo() {
		assertThat(this.serializer.id()).isEqualTo((byte) 2);
	}

	@Test
	void serialize_NotSerializableValue_ShouldThrowNamingClass() {
		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.serialize(new NotSerializableThing()))
			.withMessageContaining(NotSerializableThing.class.getName());
	}

	@Test
	void serialize_NotSerializableValueInsideCollection_ShouldThrowNamingClass() {
		List<Object> value = new ArrayList<>(List.of(new NotSerializableThing()));

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.serialize(value))
			.withMessageContaining(NotSerializableThing.class.getName());
	}

	@Test
	void deserialize_DeniedClassInAllowedPackage_ShouldThrow() throws IOException {
		byte[] bytes = javaSerialize(Thread.State.NEW);

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(bytes))
			.withMessageContaining("java.lang.Thread$State");
	}

	@Test
	void deserialize_HugeArrayLength_ShouldThrowSessionSerializationException() throws IOException {
		byte[] bytes = javaSerialize(new long[] { 1, 2, 3 });
		// the length is the last int before the three longs
		int lengthOffset = bytes.length - 3 * Long.BYTES - Integer.BYTES;
		bytes[lengthOffset] = 0x7F;
		bytes[lengthOffset + 1] = (byte) 0xFF;
		bytes[lengthOffset + 2] = (byte) 0xFF;
		bytes[lengthOffset + 3] = (byte) 0xFF;

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(bytes));
	}

	@Test
	void deserialize_HugeCollectionSize_ShouldThrowSessionSerializationException() throws IOException {
		byte[] bytes = javaSerialize(new ArrayList<>(List.of(7)));
		byte[] patched = replaceInt(bytes, 1, Integer.MAX_VALUE - 8);

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(patched));
	}

	@Test
	void deserialize_GraphDeeperThanLimit_ShouldThrow() throws IOException {
		byte[] bytes = javaSerialize(SerializerTestSupport.nestedLists(DeserializationLimits.MAX_DEPTH + 10));

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(bytes));
	}

	@Test
	void deserialize_ObjectArrayLongerThanLimit_ShouldThrow() throws IOException {
		byte[] bytes = javaSerialize(new Object[DeserializationLimits.MAX_REFERENCE_ARRAY_LENGTH + 1]);

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(bytes));
	}

	/**
	 * Replace the first occurrence of a big-endian int in the bytes.
	 */
	private static byte[] replaceInt(byte[] bytes, int from, int to) {
		for (int i = 0; i <= bytes.length - 4; i++) {
			if (bytes[i] == (byte) (from >>> 24) && bytes[i + 1] == (byte) (from >>> 16)
					&& bytes[i + 2] == (byte) (from >>> 8) && bytes[i + 3] == (byte) from) {
				byte[] patched = bytes.clone();
				patched[i] = (byte) (to >>> 24);
				patched[i + 1] = (byte) (to >>> 16);
				patched[i + 2] = (byte) (to >>> 8);
				patched[i + 3] = (byte) to;
				return patched;
			}
		}
		throw new IllegalArgumentException(from + " not found");
	}

	private static byte[] javaSerialize(Object value) throws IOException {
		ByteArrayOutputStream bytes = new ByteArrayOutputStream();
		try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
			out.writeObject(value);
		}
		return bytes.toByteArray();
	}

}
