package io.github.msm.autoconfigure;

import io.github.msm.session.IndexedMemcachedSessionRepository;
import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.session.autoconfigure.SessionAutoConfiguration;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.session.FindByIndexNameSessionRepository;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code msm.index-principal}, {@code msm.flush-mode}, {@code msm.save-mode} and
 * {@code msm.attribute-filter}.
 */
class MsmSavePolicyAndIndexAutoConfigurationTests {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private final WebApplicationContextRunner contextRunner = new WebApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(SessionAutoConfiguration.class, MsmAutoConfiguration.class))
		.withPropertyValues("msm.nodes=" + memcached.nodesProperty());

	@Test
	void defaultConfigHasNoPrincipalIndex() {
		this.contextRunner.run((context) -> {
			assertThat(context).hasSingleBean(MemcachedSessionRepository.class);
			assertThat(context).doesNotHaveBean(FindByIndexNameSessionRepository.class);
		});
	}

	@Test
	void indexPrincipalGivesAnIndexedRepository() {
		this.contextRunner.withPropertyValues("msm.index-principal=true").run((context) -> {
			assertThat(context).hasSingleBean(FindByIndexNameSessionRepository.class);
			assertThat(context).getBean("sessionRepository").isInstanceOf(IndexedMemcachedSessionRepository.class);
		});
	}

	@Test
	void flushAndSaveModesBind() {
		this.contextRunner
			.withPropertyValues("msm.flush-mode=immediate", "msm.save-mode=on-set-attribute",
					"msm.attribute-filter=user|cart\\..*")
			.run((context) -> assertThat(context).hasNotFailed().hasSingleBean(MemcachedSessionRepository.class));
	}

	@Test
	void invalidAttributeFilterFailsNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.attribute-filter=user(").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause()
				.hasMessageContaining("msm.attribute-filter: 'user(' is not a regular expression");
		});
	}

	@Test
	void unknownFlushModeFailsNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.flush-mode=sometimes").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).hasStackTraceContaining("msm.flush-mode");
		});
	}

}
