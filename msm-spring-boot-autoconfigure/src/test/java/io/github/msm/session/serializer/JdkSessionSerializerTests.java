package io.github.msm.session.serializer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import io.github.msm.session.serializer.SerializerTestSupport.RecordingClassLoader;
import io.github.msm.session.serializer.testapp.Customer;
import io.github.msm.session.serializer.testapp.Node;
import io.github.msm.session.serializer.testapp.NotSerializableThing;
import io.github.msm.session.serializer.untrusted.Decoy1;
import io.github.msm.session.serializer.untrusted.GadgetEvents;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContextImpl;
import org.springframework.security.core.userdetails.User;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Tests for {@link JdkSessionSerializer}.
 */
class JdkSessionSerializerTests {

	private final JdkSessionSerializer serializer = new JdkSessionSerializer(SerializerTestSupport.strictAllowList(),
			getClass().getClassLoader());

	@Test
	void id_ShouldBeTwo() {
		assertThat(this.serializer.id()).isEqualTo((byte) 2);
	}

	@ParameterizedTest
	@MethodSource("io.github.msm.session.serializer.SerializerTestSupport#commonValues")
	void deserialize_SerializedCommonValue_ShouldBeEqualAndOfSameClass(Object value) {
		Object restored = roundTrip(value);

		assertThat(restored).isEqualTo(value).hasSameClassAs(value);
	}

	@Test
	void deserialize_UnmodifiableCollection_ShouldKeepElementsAndStayUnmodifiable() {
		Collection<String> value = Collections.unmodifiableCollection(new ArrayList<>(List.of("a", "b")));

		Collection<String> restored = roundTrip(value);

		assertThat(restored).containsExactly("a", "b").hasSameClassAs(value);
	}

	@Test
	void deserialize_CyclicGraph_ShouldRestoreTheCycle() {
		Node first = new Node("first");
		Node second = new Node("second");
		first.setNext(second);
		second.setNext(first);

		Node restored = roundTrip(first);

		assertThat(restored.getNext().getNext()).isSameAs(restored);
	}

	@Test
	void deserialize_SecurityContext_ShouldKeepUserAuthoritiesSortedAndSearchable() {
		SecurityContextImpl restored = roundTrip(SerializerTestSupport.securityContext());

		User user = (User) restored.getAuthentication().getPrincipal();
		assertThat(user.getAuthorities()).extracting(GrantedAuthority::getAuthority)
			.containsExactly("ROLE_ADMIN", "ROLE_USER");
		assertThat(user.getAuthorities()).contains(new SimpleGrantedAuthority("ROLE_USER"));
	}

	@Test
	void deserialize_SecurityContext_ShouldKeepTokenAuthoritiesAndStayAuthenticated() {
		SecurityContextImpl restored = roundTrip(SerializerTestSupport.securityContext());

		assertThat(restored.getAuthentication().getAuthorities()).extracting(GrantedAuthority::getAuthority)
			.containsExactly("ROLE_ADMIN", "ROLE_USER");
		assertThat(restored.getAuthentication().isAuthenticated()).isTrue();
	}

	@Test
	void deserialize_AuthenticationException_ShouldKeepMessage() {
		BadCredentialsException restored = roundTrip(new BadCredentialsException("Bad credentials"));

		assertThat(restored).hasMessage("Bad credentials");
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
	void serialize_ClassOutsideAllowList_ShouldThrowNamingClassAndProperty() {
		List<Object> value = new ArrayList<>(List.of(new Decoy1()));

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.serialize(value))
			.withMessageContaining(SerializerTestSupport.DECOY1)
			.withMessageContaining("msm.serialization.allowed-packages");
	}

	@Test
	void deserialize_PatchedBytesOfAllowedClass_ShouldReadTheNamedClass() {
		byte[] bytes = SerializerTestSupport.replaceClassName(permissive().serialize(new Decoy1()),
				SerializerTestSupport.DECOY1, SerializerTestSupport.DECOY2);

		assertThat(permissive().deserialize(bytes).getClass().getName()).isEqualTo(SerializerTestSupport.DECOY2);
	}

	@Test
	void deserialize_ClassOutsideAllowList_ShouldThrowWithoutLoadingIt() {
		RecordingClassLoader classLoader = new RecordingClassLoader();
		JdkSessionSerializer strict = new JdkSessionSerializer(SerializerTestSupport.strictAllowList(), classLoader);
		byte[] bytes = SerializerTestSupport.replaceClassName(permissive().serialize(new Decoy1()),
				SerializerTestSupport.DECOY1, GadgetEvents.GADGET_CLASS_NAME);

		assertThatExceptionOfType(SessionSerializationException.class).isThrownBy(() -> strict.deserialize(bytes))
			.withMessageContaining(GadgetEvents.GADGET_CLASS_NAME);
		assertThat(classLoader.getRequested()).doesNotContain(GadgetEvents.GADGET_CLASS_NAME);
		assertThat(GadgetEvents.INITIALIZED).isFalse();
		assertThat(GadgetEvents.CONSTRUCTED).isFalse();
	}

	@Test
	void deserialize_DeniedClassInAllowedPackage_ShouldThrow() throws IOException {
		byte[] bytes = javaSerialize(Thread.State.NEW);

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(bytes))
			.withMessageContaining("java.lang.Thread$State");
	}

	@Test
	void deserialize_TruncatedBytes_ShouldThrowSessionSerializationException() {
		byte[] bytes = this.serializer.serialize(SerializerTestSupport.securityContext());

		for (int length = 0; length < bytes.length; length++) {
			byte[] truncated = Arrays.copyOf(bytes, length);
			assertThat(catchThrowable(() -> this.serializer.deserialize(truncated)))
				.as("truncated to %d bytes", length)
				.isInstanceOf(SessionSerializationException.class);
		}
	}

	@Test
	void deserialize_RandomBytes_ShouldReturnValueOrThrowSessionSerializationException() {
		Random random = new Random(187);
		byte[] valid = this.serializer.serialize(SerializerTestSupport.securityContext());

		for (int i = 0; i < 2000; i++) {
			byte[] corrupt = valid.clone();
			corrupt[random.nextInt(corrupt.length)] = (byte) random.nextInt(256);
			Throwable thrown = catchThrowable(() -> this.serializer.deserialize(corrupt));
			if (thrown != null) {
				assertThat(thrown).isInstanceOf(SessionSerializationException.class);
			}
		}
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
		byte[] bytes = javaSerialize(nestedLists(AllowListObjectInputFilter.MAX_DEPTH + 10));

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(bytes));
	}

	private static List<Object> nestedLists(int depth) {
		List<Object> root = new ArrayList<>();
		List<Object> current = root;
		for (int i = 0; i < depth; i++) {
			List<Object> child = new ArrayList<>();
			current.add(child);
			current = child;
		}
		return root;
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

	private static JdkSessionSerializer permissive() {
		return new JdkSessionSerializer(SerializerTestSupport.permissiveAllowList(),
				JdkSessionSerializerTests.class.getClassLoader());
	}

	@SuppressWarnings("unchecked")
	private <T> T roundTrip(T value) {
		return (T) this.serializer.deserialize(this.serializer.serialize(value));
	}

}
