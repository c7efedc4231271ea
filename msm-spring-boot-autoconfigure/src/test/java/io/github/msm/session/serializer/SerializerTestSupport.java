package io.github.msm.session.serializer;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.github.msm.session.serializer.testapp.Cart;
import io.github.msm.session.serializer.testapp.Customer;
import org.junit.jupiter.api.Named;

import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContextImpl;
import org.springframework.security.core.userdetails.User;

/**
 * Values and helpers shared by the serializer tests.
 */
final class SerializerTestSupport {

	static final String TESTAPP_PACKAGE = "io.github.msm.session.serializer.testapp";

	static final String UNTRUSTED_PACKAGE = "io.github.msm.session.serializer.untrusted";

	static final String DECOY1 = UNTRUSTED_PACKAGE + ".Decoy1";

	static final String DECOY2 = UNTRUSTED_PACKAGE + ".Decoy2";

	private SerializerTestSupport() {
	}

	/**
	 * The allow-list of an application: Spring Security and its own package.
	 */
	static ClassAllowList strictAllowList() {
		return ClassAllowList.of(List.of("org.springframework.security", TESTAPP_PACKAGE));
	}

	/**
	 * An allow-list that also trusts the package of the gadget, to produce bytes.
	 */
	static ClassAllowList permissiveAllowList() {
		return ClassAllowList.of(List.of("org.springframework.security", TESTAPP_PACKAGE, UNTRUSTED_PACKAGE));
	}

	/**
	 * Values that compare equal after a round trip and keep their class.
	 */
	static Stream<Named<Object>> commonValues() {
		Map<String, Integer> hashMap = new HashMap<>(Map.of("one", 1, "two", 2));
		Map<String, Integer> linkedHashMap = new LinkedHashMap<>();
		linkedHashMap.put("z", 26);
		linkedHashMap.put("a", 1);
		TreeSet<String> reversed = new TreeSet<>(Comparator.reverseOrder());
		reversed.addAll(List.of("a", "b", "c"));
		Set<String> concurrentSet = Collections.newSetFromMap(new ConcurrentHashMap<>());
		concurrentSet.add("x");
		return Stream.of(Named.of("Integer", 42), Named.of("String", "text"), Named.of("Long", 42L),
				Named.of("non-ASCII String", "Grüße, 世界"), Named.of("ArrayList", new ArrayList<>(List.of("a", "b"))),
				Named.of("HashMap", hashMap), Named.of("LinkedHashMap", linkedHashMap),
				Named.of("TreeMap", new TreeMap<>(Map.of("b", 2, "a", 1))),
				Named.of("TreeSet with comparator", reversed),
				Named.of("ConcurrentHashMap", new ConcurrentHashMap<>(Map.of("k", "v"))),
				Named.of("CopyOnWriteArrayList", new CopyOnWriteArrayList<>(List.of(1, 2))),
				Named.of("Collections.newSetFromMap", concurrentSet),
				Named.of("EnumSet", EnumSet.of(TimeUnit.SECONDS, TimeUnit.DAYS)),
				Named.of("UUID", UUID.fromString("5f0c7a4e-8b1d-4c8e-9a51-1c2f0e3d4b5a")),
				Named.of("Instant", Instant.parse("2026-11-25T17:00:00.123456789Z")),
				Named.of("Duration", Duration.ofMinutes(30)), Named.of("LocalDate", LocalDate.of(2026, 11, 25)),
				Named.of("ZonedDateTime", ZonedDateTime.parse("2026-11-25T18:00:00+01:00[Europe/Berlin]")),
				Named.of("BigDecimal", new BigDecimal("12345.6789")),
				Named.of("BigInteger", new BigInteger("123456789012345678901234567890")),
				Named.of("Locale", Locale.GERMANY), Named.of("URI", URI.create("https://example.com/a?b=c")),
				Named.of("enum", TimeUnit.MINUTES), Named.of("List.of", List.of("a", "b", "c")),
				Named.of("List.of (one element)", List.of("a")), Named.of("List.of (empty)", List.of()),
				Named.of("Set.of", Set.of("a", "b", "c")), Named.of("Map.of", Map.of("a", 1, "b", 2)),
				Named.of("Collections.unmodifiableList", Collections.unmodifiableList(new ArrayList<>(List.of(1, 2)))),
				Named.of("Collections.unmodifiableSet", Collections.unmodifiableSet(new TreeSet<>(Set.of(1, 2)))),
				Named.of("Collections.unmodifiableMap", Collections.unmodifiableMap(new HashMap<>(Map.of(1, 2)))),
				Named.of("Collections.synchronizedList", Collections.synchronizedList(new ArrayList<>(List.of(1)))),
				Named.of("Collections.synchronizedMap", Collections.synchronizedMap(new HashMap<>(Map.of(1, 2)))),
				Named.of("Collections.emptyList", Collections.emptyList()),
				Named.of("Collections.singletonMap", Collections.singletonMap("k", "v")),
				Named.of("Arrays.asList", Arrays.asList("a", null, "c")), Named.of("int[]", new int[] { 1, 2, 3 }),
				Named.of("String[]", new String[] { "a", null }),
				Named.of("record", new Cart("c-1", 3, new BigDecimal("9.99"))),
				Named.of("application class", new Customer("alice", "vip", "beta")),
				Named.of("map of application classes", new HashMap<>(Map.of("customer", new Customer("bob")))));
	}

	/**
	 * A security context as Spring Security stores it in the session after a form login.
	 */
	static SecurityContextImpl securityContext() {
		User user = new User("alice", "secret",
				List.of(new SimpleGrantedAuthority("ROLE_USER"), new SimpleGrantedAuthority("ROLE_ADMIN")));
		UsernamePasswordAuthenticationToken token = UsernamePasswordAuthenticationToken.authenticated(user, null,
				user.getAuthorities());
		token.eraseCredentials();
		return new SecurityContextImpl(token);
	}

	/**
	 * Lists nested {@code depth} levels deep, to exceed a serializer's depth limit.
	 */
	static List<Object> nestedLists(int depth) {
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
	 * Replace a class name in serialized bytes by another of the same length. Kryo marks
	 * the last character of an ASCII string with the high bit, so that byte is matched
	 * with and without it.
	 */
	static byte[] replaceClassName(byte[] bytes, String from, String to) {
		byte[] source = from.getBytes(StandardCharsets.US_ASCII);
		byte[] target = to.getBytes(StandardCharsets.US_ASCII);
		if (source.length != target.length) {
			throw new IllegalArgumentException("Names must have the same length");
		}
		byte[] patched = bytes.clone();
		int replaced = 0;
		for (int i = 0; i <= patched.length - source.length; i++) {
			if (matches(patched, i, source)) {
				int highBit = patched[i + source.length - 1] & 0x80;
				System.arraycopy(target, 0, patched, i, target.length);
				patched[i + target.length - 1] |= (byte) highBit;
				replaced++;
			}
		}
		if (replaced == 0) {
			throw new IllegalArgumentException(from + " not found in the bytes");
		}
		return patched;
	}

	private static boolean matches(byte[] bytes, int offset, byte[] name) {
		for (int i = 0; i < name.length; i++) {
			int actual = bytes[offset + i];
			if (i == name.length - 1) {
				actual &= 0x7F;
			}
			if (actual != name[i]) {
				return false;
			}
		}
		return true;
	}

	/**
	 * Records every class it is asked to load, to prove that a refused class never was.
	 */
	static final class RecordingClassLoader extends ClassLoader {

		private final List<String> requested = Collections.synchronizedList(new ArrayList<>());

		RecordingClassLoader() {
			super(SerializerTestSupport.class.getClassLoader());
		}

		@Override
		protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
			this.requested.add(name);
			return super.loadClass(name, resolve);
		}

		List<String> getRequested() {
			return this.requested;
		}

	}

}
