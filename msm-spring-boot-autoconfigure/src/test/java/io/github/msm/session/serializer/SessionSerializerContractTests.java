package io.github.msm.session.serializer;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import io.github.msm.session.serializer.SerializerTestSupport.RecordingClassLoader;
import io.github.msm.session.serializer.testapp.Customer;
import io.github.msm.session.serializer.testapp.Node;
import io.github.msm.session.serializer.untrusted.Decoy1;
import io.github.msm.session.serializer.untrusted.GadgetEvents;
import org.jspecify.annotations.Nullable;
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
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * The behaviour every {@link SessionSerializer} must share: what round-trips, what the
 * allow-list refuses and how corrupt bytes fail. Subclasses add the tests that only make
 * sense for their format.
 */
abstract class SessionSerializerContractTests {

	private final SessionSerializer serializer = createSerializer(SerializerTestSupport.strictAllowList(),
			getClass().getClassLoader());

	/**
	 * Create the serializer under test.
	 * @param allowList the classes it may read and write
	 * @param classLoader the class loader it loads classes with
	 * @return the serializer
	 */
	abstract SessionSerializer createSerializer(ClassAllowList allowList, ClassLoader classLoader);

	/**
	 * Write a value in the serializer's format without its depth limit, as an attacker
	 * with access to memcached could.
	 * @param value the value
	 * @return the bytes
	 */
	abstract byte[] serializeWithoutLimits(Object value);

	@ParameterizedTest
	@MethodSource("io.github.msm.session.serializer.SerializerTestSupport#commonValues")
	void serializeIfChanged_ValueThatSerializesToTheStoredBytes_ShouldReturnNull(Object value) {
		byte[] stored = this.serializer.serialize(value);

		assertThat(this.serializer.serializeIfChanged(value, stored)).isNull();
	}

	@Test
	void serializeIfChanged_ValueChangedInPlace_ShouldReturnItsNewBytes() {
		List<String> value = new ArrayList<>(List.of("a"));
		byte[] stored = this.serializer.serialize(value);
		value.add("b");

		byte[] bytes = this.serializer.serializeIfChanged(value, stored);

		assertThat(bytes).isEqualTo(this.serializer.serialize(value));
		assertThat((Object) this.serializer.deserialize(bytes)).isEqualTo(List.of("a", "b"));
	}

	@Test
	void serializeIfChanged_StoredBytesOfALongerValue_ShouldReturnTheNewBytes() {
		byte[] stored = this.serializer.serialize(new ArrayList<>(List.of("a", "b")));

		byte[] bytes = this.serializer.serializeIfChanged(new ArrayList<>(List.of("a")), stored);

		assertThat((Object) this.serializer.deserialize(bytes)).isEqualTo(List.of("a"));
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
	void serialize_ClassOutsideAllowList_ShouldThrowNamingClassAndProperty() {
		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.serialize(new Decoy1()))
			.withMessageContaining(SerializerTestSupport.DECOY1)
			.withMessageContaining("msm.serialization.allowed-packages");
	}

	@Test
	void serialize_ClassOutsideAllowListInsideCollection_ShouldThrowNamingClassAndProperty() {
		List<Object> value = new ArrayList<>(List.of(new Decoy1()));

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.serialize(value))
			.withMessageContaining(SerializerTestSupport.DECOY1)
			.withMessageContaining("msm.serialization.allowed-packages");
	}

	@Test
	void serialize_JdkClassOutsideAllowListInsideCollection_ShouldThrowNamingClass() {
		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.serialize(new ArrayList<>(List.of(Level.INFO))))
			.withMessageContaining("java.util.logging.Level");
	}

	@Test
	void serialize_Thread_ShouldThrow() {
		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.serialize(new Thread()));
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

	@Test
	void deserialize_PatchedBytesOfAllowedClass_ShouldReadTheNamedClass() {
		byte[] bytes = SerializerTestSupport.replaceClassName(permissive().serialize(new Decoy1()),
				SerializerTestSupport.DECOY1, SerializerTestSupport.DECOY2);

		assertThat(permissive().deserialize(bytes).getClass().getName()).isEqualTo(SerializerTestSupport.DECOY2);
	}

	@Test
	void deserialize_ClassOutsideAllowList_ShouldThrowWithoutLoadingIt() {
		RecordingClassLoader classLoader = new RecordingClassLoader();
		SessionSerializer strict = createSerializer(SerializerTestSupport.strictAllowList(), classLoader);
		byte[] bytes = SerializerTestSupport.replaceClassName(permissive().serialize(new Decoy1()),
				SerializerTestSupport.DECOY1, GadgetEvents.GADGET_CLASS_NAME);

		assertThatExceptionOfType(SessionSerializationException.class).isThrownBy(() -> strict.deserialize(bytes))
			.withMessageContaining(GadgetEvents.GADGET_CLASS_NAME);
		assertThat(classLoader.getRequested()).doesNotContain(GadgetEvents.GADGET_CLASS_NAME);
		assertThat(GadgetEvents.INITIALIZED).isFalse();
		assertThat(GadgetEvents.CONSTRUCTED).isFalse();
		assertThat(GadgetEvents.READ).isFalse();
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
	void deserialize_ListOf5000Objects_ShouldBeEqual() {
		List<Customer> value = IntStream.range(0, 5000)
			.mapToObj((i) -> new Customer("customer-" + i, "tag-" + (i % 7)))
			.collect(Collectors.toCollection(ArrayList::new));

		assertThat(roundTrip(value)).isEqualTo(value);
	}

	@Test
	void deserialize_MapOf500Entries_ShouldBeEqual() {
		Map<String, Customer> value = new HashMap<>();
		IntStream.range(0, 500).forEach((i) -> value.put("key-" + i, new Customer("customer-" + i, "tag")));

		assertThat(roundTrip(value)).isEqualTo(value);
	}

	@Test
	void deserialize_GraphAtDepthLimit_ShouldBeEqual() {
		List<Object> value = SerializerTestSupport.nestedLists(DeserializationLimits.MAX_DEPTH - 1);

		assertThat(roundTrip(value)).isEqualTo(value);
	}

	@Test
	void deserialize_ByteArrayLongerThanCollectionLimit_ShouldBeEqual() {
		byte[] value = new byte[DeserializationLimits.MAX_REFERENCE_ARRAY_LENGTH + 1];
		value[value.length - 1] = 7;

		assertThat(roundTrip(value)).isEqualTo(value);
	}

	@Test
	void deserialize_MoreObjectsThanLimit_ShouldThrowSessionSerializationException() {
		int lists = 1000;
		List<List<String>> value = new ArrayList<>();
		for (int i = 0; i < lists; i++) {
			value.add(new ArrayList<>(Collections.nCopies(DeserializationLimits.MAX_OBJECTS / lists, "x")));
		}
		byte[] bytes = this.serializer.serialize(value);

		assertThatExceptionOfType(SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(bytes));
	}

	@Test
	void deserialize_NestedSetsFortyDeep_ShouldThrowSessionSerializationException() {
		byte[] bytes = serializeWithoutLimits(CraftedGraphs.nestedSets(40));

		assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThatExceptionOfType(
				SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(bytes)));
	}

	@Test
	void deserialize_ThreeWideNestedSetsWithinDepthLimit_ShouldThrowWithinASecond() {
		byte[] bytes = serializeWithoutLimits(CraftedGraphs.wideNestedSets(3, DeserializationLimits.MAX_DEPTH - 2));
		ThreadMXBean threads = ManagementFactory.getThreadMXBean();

		long start = System.nanoTime();
		long cpuStart = threads.getCurrentThreadCpuTime();
		Throwable thrown = catchThrowable(() -> this.serializer.deserialize(bytes));
		Duration cpu = Duration.ofNanos(threads.getCurrentThreadCpuTime() - cpuStart);
		Duration took = Duration.ofNanos(System.nanoTime() - start);

		System.out.println(getClass().getSimpleName() + ": 3-wide nested sets, " + (DeserializationLimits.MAX_DEPTH - 2)
				+ " levels, " + bytes.length + " bytes, refused after " + took.toMillis() + " ms (" + cpu.toMillis()
				+ " ms CPU)");
		assertThat(thrown).isInstanceOf(SessionSerializationException.class);
		assertThat(cpu).isLessThan(Duration.ofSeconds(1));
	}

	@Test
	void deserialize_SetsSharingOneLargeSet_ShouldBeEqual() {
		Set<String> shared = IntStream.range(0, 100).mapToObj((i) -> "tag-" + i).collect(Collectors.toSet());
		List<Set<Object>> value = new ArrayList<>();
		for (int i = 0; i < 2000; i++) {
			Set<Object> set = new HashSet<>();
			set.add(shared);
			set.add(i);
			value.add(set);
		}

		assertThat(roundTrip(value)).isEqualTo(value);
	}

	@Test
	void deserialize_ListChainInSetLongerThanLimits_ShouldThrowSessionSerializationException() {
		byte[] bytes = serializeWithoutLimits(CraftedGraphs.listChainInSet(DeserializationLimits.MAX_OBJECTS));

		assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThatExceptionOfType(
				SessionSerializationException.class)
			.isThrownBy(() -> this.serializer.deserialize(bytes)));
	}

	@Test
	void deserialize_ListChainInSetOverflowingTheStack_ShouldThrowSessionSerializationException() throws Exception {
		// short enough for the hashing work limit (the chain's sizes add up to length² / 2)
		byte[] bytes = serializeWithoutLimits(CraftedGraphs.listChainInSet(900));

		assertThat(deserializeOnSmallStack(bytes)).isInstanceOf(SessionSerializationException.class)
			.hasRootCauseInstanceOf(StackOverflowError.class);
	}

	/**
	 * Deserialize on a thread with a 128 KB stack, so that a deep graph overflows it
	 * whatever the JVM's default stack size.
	 * @return what the serializer threw
	 */
	private @Nullable Throwable deserializeOnSmallStack(byte[] bytes) throws InterruptedException {
		AtomicReference<Throwable> thrown = new AtomicReference<>();
		Thread reader = new Thread(null, () -> thrown.set(catchThrowable(() -> this.serializer.deserialize(bytes))),
				"small-stack-reader", 128 * 1024);
		reader.start();
		reader.join(Duration.ofSeconds(5).toMillis());
		assertThat(reader.isAlive()).as("still reading after 5 s").isFalse();
		return thrown.get();
	}

	private SessionSerializer permissive() {
		return createSerializer(SerializerTestSupport.permissiveAllowList(), getClass().getClassLoader());
	}

	@SuppressWarnings("unchecked")
	private <T> T roundTrip(T value) {
		return (T) this.serializer.deserialize(this.serializer.serialize(value));
	}

}
