package io.github.msm.session.lock;

import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class LockingRoutesTest {

	@Test
	void route_WithIdLikeSegments_ShouldReplaceThem() {
		assertThat(LockingRoutes.route("GET", "/orders/17/items/3f0c9a7e1b2d4c5f8a6b7c8d9e0f1a2b-n1"))
			.isEqualTo("GET /orders/{id}/items/{id}");
		assertThat(LockingRoutes.route("GET", "/users/123e4567-e89b-12d3-a456-426614174000/cart"))
			.isEqualTo("GET /users/{id}/cart");
	}

	@Test
	void shouldLock_AutoModeUnknownRoute_ShouldLock() {
		assertThat(new LockingRoutes(LockingMode.AUTO, null).shouldLock("GET", "/cart")).isTrue();
	}

	@Test
	void shouldLock_AutoModeAfterAReadOnlyRequest_ShouldNotLockTheRoute() {
		LockingRoutes routes = new LockingRoutes(LockingMode.AUTO, null);

		routes.learn("GET", "/orders/17", false);

		assertThat(routes.shouldLock("GET", "/orders/18")).isFalse();
		assertThat(routes.shouldLock("POST", "/orders/18")).isTrue();
	}

	@Test
	void shouldLock_AutoModeRouteThatModifiedOnce_ShouldAlwaysLock() {
		LockingRoutes routes = new LockingRoutes(LockingMode.AUTO, null);

		routes.learn("GET", "/cart", true);
		routes.learn("GET", "/cart", false);

		assertThat(routes.shouldLock("GET", "/cart")).isTrue();
	}

	@Test
	void shouldLock_UriPattern_ShouldMatchTheWholePathOnly() {
		LockingRoutes routes = new LockingRoutes(LockingMode.URI_PATTERN, Pattern.compile("/cart/.*"));

		assertThat(routes.shouldLock("POST", "/cart/add")).isTrue();
		assertThat(routes.shouldLock("POST", "/shop/cart/add")).isFalse();
		assertThat(routes.shouldLock("POST", "/cart")).isFalse();
	}

	@Test
	void shouldLock_ModesAllAndNone_ShouldLockAlwaysAndNever() {
		assertThat(new LockingRoutes(LockingMode.ALL, null).shouldLock("GET", "/x")).isTrue();
		assertThat(new LockingRoutes(LockingMode.NONE, null).shouldLock("POST", "/x")).isFalse();
	}

}
