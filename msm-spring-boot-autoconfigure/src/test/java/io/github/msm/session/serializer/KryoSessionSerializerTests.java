package io.github.msm.session.serializer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.logging.Level;
import java.util.stream.IntStream;

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

import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContextImpl;
import org.springframework.security.core.userdetails.User;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Tests for {@link KryoSessionSerializer}.
 */
class KryoSessionSerializerTests {

	private final KryoSessionSerializer serializer = new KryoSessionSerializer(
			SerializerTestSupport.strictAllowList(), getClass().getClassLoader());

	@Test
	void id_ShouldBeOne() {
		assertThat(this.serializer.id()).isEqualTo((byte) 1);
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
	void deserialize_SameObjectTwice_ShouldRestoreOneInstance() {
		Customer customer = new Customer("alice");

		List<Customer> restored = roundTrip(new ArrayList<>(List.of(customer, customer)));

		assertThat(restored.get(0)).isSameAs(restored.get(1));
	}

	@Test
	void deserialize_SecurityContext_ShouldKeepTokenAuthorities() {
		SecurityContextImpl restored = roundTrip(SerializerTestSupport.securityContext());

		assertThat(restored.getAuthentication().getAuthorities()).extracting(GrantedAuthority::getAuthority)
			.containsExactly("ROLE_ADMIN", "ROLE_USER");
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
	void deserialize_SecurityContext_ShouldStayAuthenticated() {
		SecurityContextImpl restored = roundTrip(SerializerTestSupport.securityContext());

		Authentication authentication = restored.getAuthentication();
		assertThat(authentication.isAuthenticated()).isTrue();
		assertThat(authentication.getName()).isEqualTo("alice");
	}

	@Test
	void deserialize_SecurityContext_ShouldEqualTheOriginal() {
		SecurityContextImpl context = SerializerTestSupport.securityContext();

		assertThat(roundTrip(context)).isEqualTo(context);
	}

	@Test
	void deserialize_AuthenticationException_ShouldKeepMessage() {
		BadCredentialsException restored = roundTrip(new BadCredentialsException("Bad credentials"));

		assertThat(restored).hasMessage("Bad credentials");
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
	void serialize_ClassOutsideAllowList_ShouldThrowNamingClassAndProperty() {
		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.serialize(new Decoy1()))
			.withMessageContaining(SerializerTestSupport.DECOY1)
			.withMessageContaining("msm.serialization.allowed-packages");
	}

	@Test
	void serialize_ClassOutsideAllowListInsideCollection_ShouldThrow() {
		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.serialize(new ArrayList<>(List.of(Level.INFO))))
			.withMessageContaining("java.util.logging.Level");
	}

	@Test
	void serialize_ClassOutsideAllowListInsideJavaSerializedWrapper_ShouldThrow() {
		List<Object> value = Collections.unmodifiableList(new ArrayList<>(List.of(new Decoy1())));

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.serialize(value))
			.withMessageContaining(SerializerTestSupport.DECOY1);
	}

	@Test
	void serialize_Thread_ShouldThrow() {
		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.serialize(new Thread()));
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
		KryoSessionSerializer strict = new KryoSessionSerializer(SerializerTestSupport.strictAllowList(),
				classLoader);
		byte[] bytes = SerializerTestSupport.replaceClassName(permissive().serialize(new Decoy1()),
				SerializerTestSupport.DECOY1, GadgetEvents.GADGET_CLASS_NAME);

		assertThatExceptionOfType(SessionSerializationException.class).isThrownBy(() -> strict.deserialize(bytes))
			.withMessageContaining(GadgetEvents.GADGET_CLASS_NAME);
		assertThat(classLoader.getRequested()).doesNotContain(GadgetEvents.GADGET_CLASS_NAME);
		assertThat(GadgetEvents.INITIALIZED).isFalse();
		assertThat(GadgetEvents.CONSTRUCTED).isFalse();
	}

	@Test
	void deserialize_ClassOutsideAllowListInsideJavaSerializedWrapper_ShouldThrowWithoutLoadingIt() {
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
	}

	@Test
	void deserialize_DeniedJdkClassName_ShouldThrow() {
		byte[] bytes = SerializerTestSupport.replaceClassName(this.serializer.serialize(new ArrayList<>()),
				"java.util.ArrayList", "java.lang.Runtime$1");

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(bytes))
			.withMessageContaining("java.lang.Runtime$1");
	}

	@Test
	void deserialize_UnexpectedRegistrationId_ShouldThrow() {
		byte[] bytes = { 12, 1 };

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(bytes))
			.withMessageContaining("class ID 10");
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
		kryo.writeClassAndObject(output, nestedLists(SessionKryo.MAX_DEPTH + 10));

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(output.toBytes()))
			.withMessageContaining("Max depth exceeded");
	}

	@Test
	void deserialize_NullEncoded_ShouldThrow() {
		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(new byte[] { 0 }));
	}

	@Test
	void serialize_ConcurrentCalls_ShouldEachRoundTrip() throws Exception {
		ExecutorService executor = Executors.newFixedThreadPool(8);
		try {
			List<Callable<Object>> calls = IntStream.range(0, 200)
				.mapToObj((i) -> (Callable<Object>) () -> roundTrip(new Customer("c" + i, "t" + i)))
				.toList();
			List<Object> restored = new ArrayList<>();
			for (Future<Object> future : executor.invokeAll(calls)) {
				restored.add(future.get());
			}
			assertThat(restored).hasSize(200).doesNotHaveDuplicates();
		}
		finally {
			executor.shutdownNow();
		}
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

	private static void register(Kryo kryo, Class<?>... types) {
		for (Class<?> type : types) {
			kryo.register(type);
		}
	}

	private static KryoSessionSerializer permissive() {
		return new KryoSessionSerializer(SerializerTestSupport.permissiveAllowList(),
				KryoSessionSerializerTests.class.getClassLoader());
	}

	@SuppressWarnings("unchecked")
	private <T> T roundTrip(T value) {
		return (T) this.serializer.deserialize(this.serializer.serialize(value));
	}

}
