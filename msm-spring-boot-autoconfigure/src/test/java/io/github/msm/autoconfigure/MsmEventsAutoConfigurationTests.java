package io.github.msm.autoconfigure;

import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.event.ExpiryWatch;
import io.github.msm.session.event.SessionEvents;
import io.github.msm.session.sticky.StickySessionRepository;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.session.autoconfigure.SessionAutoConfiguration;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.test.util.ReflectionTestUtils;

import static org.assertj.core.api.Assertions.assertThat;

class MsmEventsAutoConfigurationTests {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private final WebApplicationContextRunner contextRunner = new WebApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(SessionAutoConfiguration.class, MsmAutoConfiguration.class,
				MsmStickyAutoConfiguration.class, MsmEventsAutoConfiguration.class))
		.withPropertyValues("msm.nodes=" + memcached.nodesProperty());

	@Test
	void defaultConfig_ShouldGiveTheRepositoryTheSessionEvents() {
		this.contextRunner.run((context) -> {
			assertThat(context).hasSingleBean(ExpiryWatch.class);
			assertThat(ReflectionTestUtils.getField(context.getBean(MemcachedSessionRepository.class),
					"lifecycleListener"))
				.isInstanceOf(SessionEvents.class);
		});
	}

	@Test
	void sticky_ShouldGiveTheStickyRepositoryTheWatch() {
		this.contextRunner.withPropertyValues("msm.sticky=true", "msm.jvm-route=app1").run((context) -> {
			assertThat(context).hasSingleBean(ExpiryWatch.class);
			assertThat(ReflectionTestUtils.getField(context.getBean(StickySessionRepository.class), "expiryWatch"))
				.isSameAs(context.getBean(ExpiryWatch.class));
			assertThat(ReflectionTestUtils.getField(context.getBean(MemcachedSessionRepository.class),
					"lifecycleListener"))
				.isNotInstanceOf(SessionEvents.class);
		});
	}

	@Test
	void maxSessions_Zero_ShouldFailNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.events.max-sessions=0")
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("msm.events.max-sessions"));
	}

	@Test
	void checkInterval_Zero_ShouldFailNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.events.check-interval=0s")
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("msm.events.check-interval"));
	}

}
