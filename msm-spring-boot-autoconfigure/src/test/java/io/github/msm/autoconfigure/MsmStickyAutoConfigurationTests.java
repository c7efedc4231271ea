package io.github.msm.autoconfigure;

import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.sticky.StickySessionRepository;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.session.autoconfigure.SessionAutoConfiguration;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.session.SessionRepository;
import org.springframework.session.web.http.SessionRepositoryFilter;
import org.springframework.test.util.ReflectionTestUtils;

import static org.assertj.core.api.Assertions.assertThat;

class MsmStickyAutoConfigurationTests {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private final WebApplicationContextRunner contextRunner = new WebApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(SessionAutoConfiguration.class, MsmAutoConfiguration.class,
				MsmStickyAutoConfiguration.class))
		.withPropertyValues("msm.nodes=" + memcached.nodesProperty());

	@Test
	void defaultConfig_ShouldNotBeSticky() {
		this.contextRunner.run((context) -> {
			assertThat(context).doesNotHaveBean(StickySessionRepository.class);
			assertThat(context).hasSingleBean(MemcachedSessionRepository.class);
		});
	}

	@Test
	void sticky_WithRoute_ShouldGiveTheFilterTheStickyRepository() {
		this.contextRunner.withPropertyValues("msm.sticky=true", "msm.jvm-route=app1", "msm.sticky.max-sessions=5")
			.run((context) -> {
				assertThat(context).hasSingleBean(StickySessionRepository.class);
				SessionRepositoryFilter<?> filter = context.getBean(SessionRepositoryFilter.class);
				assertThat(ReflectionTestUtils.getField(filter, "sessionRepository"))
					.isSameAs(context.getBean(StickySessionRepository.class));
				assertThat(context.getBean(SessionRepository.class).createSession().getId())
					.matches("[0-9a-f]{32}-n[12]\\.app1");
				assertThat(ReflectionTestUtils.getField(context.getBean(StickySessionRepository.class), "maxSessions"))
					.isEqualTo(5);
			});
	}

	@Test
	void sticky_WithoutRoute_ShouldFailNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.sticky=true")
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("msm.sticky")
				.hasMessageContaining("msm.jvm-route"));
	}

	@Test
	void jvmRoute_Malformed_ShouldFailNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.jvm-route=app.1")
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("msm.jvm-route"));
	}

	@Test
	void jvmRoute_WithoutSticky_ShouldGoIntoIds() {
		this.contextRunner.withPropertyValues("msm.jvm-route=app2")
			.run((context) -> assertThat(context.getBean(MemcachedSessionRepository.class).createSession().getId())
				.matches("[0-9a-f]{32}-n[12]\\.app2"));
	}

}
