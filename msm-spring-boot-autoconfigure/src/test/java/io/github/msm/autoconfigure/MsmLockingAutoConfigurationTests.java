package io.github.msm.autoconfigure;

import io.github.msm.session.lock.SessionLockFilter;
import io.github.msm.session.lock.SessionLocks;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.session.autoconfigure.SessionAutoConfiguration;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.web.servlet.FilterRegistrationBean;

import static org.assertj.core.api.Assertions.assertThat;

class MsmLockingAutoConfigurationTests {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(1);

	private final WebApplicationContextRunner contextRunner = new WebApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(SessionAutoConfiguration.class, MsmAutoConfiguration.class,
				MsmLockingAutoConfiguration.class))
		.withPropertyValues("msm.nodes=" + memcached.nodesProperty());

	@Test
	void defaultConfigHasNoLocking() {
		this.contextRunner.run((context) -> {
			assertThat(context).hasSingleBean(MsmLockingProperties.class);
			assertThat(context).doesNotHaveBean(SessionLocks.class);
		});
	}

	@Test
	void modeAllRegistersTheFilterBeforeSpringSessions() {
		this.contextRunner.withPropertyValues("msm.locking-mode=all").run((context) -> {
			assertThat(context).hasSingleBean(SessionLocks.class);
			FilterRegistrationBean<?> registration = context.getBean("msmSessionLockFilter",
					FilterRegistrationBean.class);
			assertThat(registration.getFilter()).isInstanceOf(SessionLockFilter.class);
			assertThat(registration.getOrder()).isLessThan(
					org.springframework.session.web.http.SessionRepositoryFilter.DEFAULT_ORDER - 1);
		});
	}

	@Test
	void modeAll_InStickyMode_ShouldLockInsideTheServerOnly() {
		this.contextRunner.withPropertyValues("msm.locking-mode=all", "msm.sticky=true", "msm.jvm-route=app1")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				assertThat(context.getBean(SessionLocks.class).isDistributed()).isFalse();
				assertThat(context).hasBean("msmSessionLockFilter");
			});
	}

	@Test
	void modeAll_InNonStickyMode_ShouldLockInMemcached() {
		this.contextRunner.withPropertyValues("msm.locking-mode=all")
			.run((context) -> assertThat(context.getBean(SessionLocks.class).isDistributed()).isTrue());
	}

	@Test
	void uriPatternModeWithoutPatternFailsNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.locking-mode=uri-pattern").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("msm.locking-uri-pattern");
		});
	}

	@Test
	void badUriPatternFailsNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.locking-mode=uri-pattern", "msm.locking-uri-pattern=/cart/(")
			.run((context) -> {
				assertThat(context).hasFailed();
				assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("msm.locking-uri-pattern");
			});
	}

	@Test
	void fractionalLockExpirationFailsNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.locking-mode=all", "msm.lock-expiration=1500ms").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("msm.lock-expiration");
		});
	}

	@Test
	void negativeLockTimeoutFailsNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.locking-mode=auto", "msm.lock-timeout=-1s").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("msm.lock-timeout");
		});
	}

}
