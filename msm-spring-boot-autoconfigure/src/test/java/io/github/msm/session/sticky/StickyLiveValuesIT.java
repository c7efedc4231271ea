package io.github.msm.session.sticky;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.github.msm.session.MemcachedSession;
import io.github.msm.session.SessionSavePolicy;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.session.FlushMode;
import org.springframework.session.SaveMode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sticky mode serves the values of the sessions it holds: a local hit hands the request
 * the held values themselves (nothing is deserialized), each request keeps its own
 * attribute map, and a value changed in place is still saved to memcached.
 */
class StickyLiveValuesIT extends StickyITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@Test
	void findById_AfterTheRequestThatSetTheValue_ShouldServeThatValueItself() {
		StickySessionRepository server = server("a");
		List<String> cart = new ArrayList<>(List.of("book"));
		String id = create(server, "cart", cart).getId();

		Object served = read(server, id, "cart");

		assertThat(served).isSameAs(cart);
	}

	@Test
	void findById_AfterARequestThatDeserializedTheValue_ShouldServeTheSameInstance() {
		String id = create(server("a"), "cart", new ArrayList<>(List.of("book"))).getId();
		StickySessionRepository restarted = server("a");

		Object first = read(restarted, id, "cart");
		Object second = read(restarted, id, "cart");

		assertThat(first).isEqualTo(List.of("book"));
		assertThat(second).isSameAs(first);
	}

	@Test
	void findById_TwoRequestsAtOnce_ShouldShareValuesButNotAttributeMaps() {
		StickySessionRepository server = server("a");
		String id = create(server, "cart", new ArrayList<>(List.of("book"))).getId();
		read(server, id, "cart");

		MemcachedSession first = server.findById(id);
		MemcachedSession second = server.findById(id);
		first.setAttribute("coupon", "SAVE10");

		assertThat((Object) second.getAttribute("cart")).isSameAs(first.getAttribute("cart"));
		assertThat((Object) second.getAttribute("coupon")).isNull();
	}

	@Test
	@SuppressWarnings("unchecked")
	void save_ValueChangedInPlace_ShouldStoreTheChangeForOtherServersAndServeItLocally() {
		StickySessionRepository server = server("a");
		String id = create(server, "cart", new ArrayList<>(List.of("book"))).getId();
		MemcachedSession request = server.findById(id);
		request.setLastAccessedTime(Instant.now());
		((List<String>) request.getAttribute("cart")).add("pen");
		server.save(request);
		server.save(request);

		Object local = read(server, id, "cart");
		Object elsewhere = read(server("a"), id, "cart");

		assertThat(local).isEqualTo(List.of("book", "pen"));
		assertThat(elsewhere).isEqualTo(List.of("book", "pen"));
	}

	@Test
	@SuppressWarnings("unchecked")
	void save_ValueChangedInPlaceWithSaveModeOnSetAttribute_ShouldBeSeenLocallyButNotStored() {
		SessionSavePolicy onSet = new SessionSavePolicy(FlushMode.ON_SAVE, SaveMode.ON_SET_ATTRIBUTE, null);
		StickySessionRepository server = server("a", onSet);
		String id = create(server, "cart", new ArrayList<>(List.of("book"))).getId();
		MemcachedSession request = server.findById(id);
		request.setLastAccessedTime(Instant.now());
		((List<String>) request.getAttribute("cart")).add("pen");
		server.save(request);
		server.save(request);

		Object local = read(server, id, "cart");
		Object elsewhere = read(server("a", onSet), id, "cart");

		assertThat(local).isEqualTo(List.of("book", "pen"));
		assertThat(elsewhere).isEqualTo(List.of("book"));
	}

	@Test
	void findById_AfterAnotherServerChangedTheSession_ShouldServeTheNewValueNotTheHeldOne() {
		StickySessionRepository a = server("a");
		String id = create(a, "cart", new ArrayList<>(List.of("book"))).getId();
		read(a, id, "cart");
		StickySessionRepository b = server("b");
		String takenOver = write(b, id, "cart", new ArrayList<>(List.of("lamp")));

		Object served = read(a, takenOver, "cart");

		assertThat(served).isEqualTo(List.of("lamp"));
	}

}
