package io.github.msm.session;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import io.github.msm.test.MemcachedServer;
import io.github.msm.test.MemcachedServers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.session.FlushMode;
import org.springframework.session.SaveMode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Spring Session's flush and save modes and msm's attribute filter, as another server
 * sees the result in memcached.
 */
class SessionSavePolicyIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@Test
	void flushImmediate_SetAttribute_ShouldBeVisibleToOtherServersBeforeTheSave() {
		MemcachedSessionRepository repository = withPolicy(FlushMode.IMMEDIATE, SaveMode.ON_GET_ATTRIBUTE, null);
		String id = stored(repository, "step", "created");
		MemcachedSession session = repository.findById(id);

		session.setAttribute("step", "started");

		assertThat(elsewhere(id).<String>getAttribute("step")).isEqualTo("started");
	}

	@Test
	void flushOnSave_SetAttribute_ShouldNotBeVisibleToOtherServersBeforeTheSave() {
		MemcachedSessionRepository repository = withPolicy(FlushMode.ON_SAVE, SaveMode.ON_GET_ATTRIBUTE, null);
		String id = stored(repository, "step", "created");
		MemcachedSession session = repository.findById(id);

		session.setAttribute("step", "started");

		assertThat(elsewhere(id).<String>getAttribute("step")).isEqualTo("created");
	}

	@Test
	void flushImmediate_RemoveAttribute_ShouldBeVisibleToOtherServersBeforeTheSave() {
		MemcachedSessionRepository repository = withPolicy(FlushMode.IMMEDIATE, SaveMode.ON_GET_ATTRIBUTE, null);
		String id = stored(repository, "step", "created");
		MemcachedSession session = repository.findById(id);

		session.removeAttribute("step");

		assertThat(elsewhere(id).getAttributeNames()).doesNotContain("step");
	}

	@Test
	void saveModeOnSetAttribute_ValueChangedInPlace_ShouldNotBeWritten() {
		MemcachedSessionRepository repository = withPolicy(FlushMode.ON_SAVE, SaveMode.ON_SET_ATTRIBUTE, null);
		String id = stored(repository, "items", new ArrayList<>(List.of("a")));
		MemcachedSession session = repository.findById(id);

		session.<List<String>>getAttribute("items").add("b");
		repository.save(session);

		assertThat(elsewhere(id).<List<String>>getAttribute("items")).containsExactly("a");
	}

	@Test
	void saveModeOnGetAttribute_ValueChangedInPlace_ShouldBeWritten() {
		MemcachedSessionRepository repository = withPolicy(FlushMode.ON_SAVE, SaveMode.ON_GET_ATTRIBUTE, null);
		String id = stored(repository, "items", new ArrayList<>(List.of("a")));
		MemcachedSession session = repository.findById(id);

		session.<List<String>>getAttribute("items").add("b");
		repository.save(session);

		assertThat(elsewhere(id).<List<String>>getAttribute("items")).containsExactly("a", "b");
	}

	@Test
	void saveModeAlways_UnchangedSession_ShouldWriteItsAttributesOverAConcurrentChange() {
		MemcachedSessionRepository always = withPolicy(FlushMode.ON_SAVE, SaveMode.ALWAYS, null);
		String id = stored(always, "colour", "red");
		MemcachedSession unchanged = always.findById(id);
		MemcachedSession concurrent = this.repository.findById(id);
		concurrent.setAttribute("colour", "blue");
		this.repository.save(concurrent);

		always.save(unchanged);

		assertThat(elsewhere(id).<String>getAttribute("colour")).isEqualTo("red");
	}

	@Test
	void saveModeAlways_SecondSaveOfTheRequest_ShouldWriteNothing() {
		MemcachedSessionRepository always = withPolicy(FlushMode.ON_SAVE, SaveMode.ALWAYS, null);
		String id = stored(always, "colour", "red");
		MemcachedSession session = always.findById(id);
		always.save(session);
		always.awaitBackupWrites();
		MemcachedServer primary = memcached.node(always.nodeIdOf(id));
		long casBefore = primary.stat("cas_hits") + primary.stat("cas_misses");

		always.save(session);

		assertThat(primary.stat("cas_hits") + primary.stat("cas_misses")).isEqualTo(casBefore);
	}

	@Test
	void attributeFilter_NonMatchingAttribute_ShouldNotBeStored() {
		MemcachedSessionRepository repository = withPolicy(FlushMode.ON_SAVE, SaveMode.ON_GET_ATTRIBUTE,
				"user|cart\\..*");
		MemcachedSession session = repository.createSession();
		session.setAttribute("user", "alice");
		session.setAttribute("cart.items", 3);
		session.setAttribute("scratch", "only for this request");

		repository.save(session);

		assertThat(elsewhere(session.getId()).getAttributeNames()).containsExactlyInAnyOrder("user", "cart.items");
		assertThat(session.<String>getAttribute("scratch")).isEqualTo("only for this request");
	}

	@Test
	void attributeFilter_ShouldMatchTheWholeName() {
		MemcachedSessionRepository repository = withPolicy(FlushMode.ON_SAVE, SaveMode.ON_GET_ATTRIBUTE, "user");
		MemcachedSession session = repository.createSession();
		session.setAttribute("user", "alice");
		session.setAttribute("username", "alice");

		repository.save(session);

		assertThat(elsewhere(session.getId()).getAttributeNames()).containsExactly("user");
	}

	private MemcachedSessionRepository withPolicy(FlushMode flushMode, SaveMode saveMode, @Nullable String filter) {
		MemcachedSessionRepository repository = newRepository(Clock.systemUTC(), kryo(), new SimpleMeterRegistry());
		repository.setSavePolicy(
				new SessionSavePolicy(flushMode, saveMode, (filter != null) ? Pattern.compile(filter) : null));
		return repository;
	}

	private static String stored(MemcachedSessionRepository repository, String name, Object value) {
		MemcachedSession session = repository.createSession();
		session.setAttribute(name, value);
		repository.save(session);
		return session.getId();
	}

	/** The session as another server reads it now. */
	private MemcachedSession elsewhere(String id) {
		MemcachedSession session = newRepository(Clock.systemUTC(), kryo(), new SimpleMeterRegistry()).findById(id);
		assertThat(session).as("session " + id + " read by another server").isNotNull();
		return session;
	}

}
