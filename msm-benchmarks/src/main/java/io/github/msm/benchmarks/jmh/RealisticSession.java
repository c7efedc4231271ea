package io.github.msm.benchmarks.jmh;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

import io.github.msm.benchmarks.domain.Address;
import io.github.msm.benchmarks.domain.Cart;
import io.github.msm.benchmarks.domain.CartItem;
import io.github.msm.benchmarks.domain.Customer;
import io.github.msm.benchmarks.domain.Preferences;

import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.authority.AuthorityUtils;
import org.springframework.security.core.context.SecurityContextImpl;
import org.springframework.security.core.userdetails.User;

/**
 * The attributes of a signed-in shop user's session, as the serializer benchmark stores
 * them: Spring Security's context (a {@link UsernamePasswordAuthenticationToken} over a
 * {@link User} with three authorities), a customer with two addresses, preferences, a
 * cart of 50 items, recently viewed product ids and a few scalars. Fixed content, so
 * every run serializes the same graph.
 *
 * @author msm-spring-boot
 */
public final class RealisticSession {

	/**
	 * The packages the serializers allow, as the auto-configuration would for an
	 * application in this package: Spring Security's and the application's own.
	 */
	public static final List<String> PACKAGES = List.of("org.springframework.security", "io.github.msm.benchmarks");

	private RealisticSession() {
	}

	/**
	 * The attributes by name, in a stable order.
	 * @return a new map of new values
	 */
	public static Map<String, Object> attributes() {
		Map<String, Object> attributes = new LinkedHashMap<>();
		User user = new User("alice@example.com", "", AuthorityUtils.createAuthorityList("ROLE_USER", "ROLE_CUSTOMER",
				"SCOPE_orders"));
		UsernamePasswordAuthenticationToken authentication = UsernamePasswordAuthenticationToken.authenticated(user,
				null, user.getAuthorities());
		attributes.put("SPRING_SECURITY_CONTEXT", new SecurityContextImpl(authentication));
		Address home = new Address("1 Main Street", "Springfield", "12345", "US");
		attributes.put("customer", new Customer(new UUID(0x1234_5678_9abc_def0L, 0x0fed_cba9_8765_4321L), "Alice Example",
				"alice@example.com", LocalDate.of(2019, 4, 1), home, new Address("2 Side Road", "Shelbyville", "54321",
						"US")));
		attributes.put("preferences", new Preferences(Locale.US, ZoneId.of("America/New_York"),
				Preferences.Theme.DARK, 25));
		Cart cart = new Cart();
		Instant when = Instant.parse("2026-01-01T10:00:00Z");
		for (int i = 0; i < 50; i++) {
			cart.add(new CartItem("SKU-" + (100_000 + i * 7), "Product number " + i, 1 + i % 3,
					new BigDecimal("9.99").add(BigDecimal.valueOf(i))), when.plusSeconds(i));
		}
		attributes.put("cart", cart);
		List<Long> viewed = new ArrayList<>();
		for (int i = 0; i < 20; i++) {
			viewed.add(100_000L + i * 13);
		}
		attributes.put("recentlyViewed", viewed);
		attributes.put("csrfSeed", UUID.nameUUIDFromBytes("seed".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
		attributes.put("visits", 42);
		attributes.put("lastSearch", "spring session memcached");
		return attributes;
	}

}
