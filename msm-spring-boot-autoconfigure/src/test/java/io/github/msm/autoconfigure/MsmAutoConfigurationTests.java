package io.github.msm.autoconfigure;

import java.time.Duration;

import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.serializer.JdkSessionSerializer;
import io.github.msm.session.serializer.KryoSessionSerializer;
import io.github.msm.session.serializer.SessionSerializer;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.session.autoconfigure.SessionAutoConfiguration;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.session.MapSessionRepository;
import org.springframework.session.SessionRepository;
import org.springframework.session.config.SessionRepositoryCustomizer;
import org.springframework.session.web.http.CookieSerializer;
import org.springframework.session.web.http.SessionRepositoryFilter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

class MsmAutoConfigurationTests {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private final WebApplicationContextRunner contextRunner = new WebApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(SessionAutoConfiguration.class, MsmAutoConfiguration.class))
		.withPropertyValues("msm.nodes=" + memcached.nodesProperty());

	@Test
	void defaultConfig() {
		this.contextRunner.run((context) -> {
			assertThat(context).hasSingleBean(MemcachedSessionRepository.class);
			assertThat(context).hasSingleBean(SessionRepositoryFilter.class);
			assertThat(context).getBean(SessionSerializer.class).isInstanceOf(KryoSessionSerializer.class);
			MemcachedSessionRepository repository = context.getBean(MemcachedSessionRepository.class);
			assertThat(repository.createSession().getMaxInactiveInterval()).isEqualTo(Duration.ofMinutes(30));
			assertThat(repository.createSession().getId()).matches("[0-9a-f]{32}-n[12]");
		});
	}

	@Test
	void customTimeout() {
		this.contextRunner.withPropertyValues("spring.session.timeout=5m")
			.run((context) -> assertThat(
					context.getBean(MemcachedSessionRepository.class).createSession().getMaxInactiveInterval())
				.isEqualTo(Duration.ofMinutes(5)));
	}

	@Test
	void nodesAsList() {
		this.contextRunner
			.withPropertyValues("msm.nodes[0]=" + memcached.node(0).nodeSpec(), "msm.nodes[1]=" + memcached.node(1).nodeSpec())
			.run((context) -> assertThat(context).hasSingleBean(MemcachedSessionRepository.class));
	}

	@Test
	void singlePlainNodeGivesIdsWithoutSuffix() {
		this.contextRunner.withPropertyValues("msm.nodes=" + memcached.node(0).address())
			.run((context) -> assertThat(context.getBean(MemcachedSessionRepository.class).createSession().getId())
				.matches("[0-9a-f]{32}"));
	}

	@Test
	void jdkSerializer() {
		this.contextRunner.withPropertyValues("msm.serializer=jdk")
			.run((context) -> assertThat(context).getBean(SessionSerializer.class)
				.isInstanceOf(JdkSessionSerializer.class));
	}

	@Test
	void sessionCookieIsNotBase64() {
		this.contextRunner.run((context) -> assertThat(context.getBean(CookieSerializer.class))
			.hasFieldOrPropertyWithValue("useBase64Encoding", false));
	}

	@Test
	void whenDisabledThenServletContainerKeepsSessions() {
		this.contextRunner.withPropertyValues("msm.enabled=false").run((context) -> {
			assertThat(context).hasNotFailed();
			assertThat(context).doesNotHaveBean(SessionRepository.class);
			assertThat(context).doesNotHaveBean(SessionRepositoryFilter.class);
		});
	}

	@Test
	void whenTheUserDefinesTheirOwnSessionRepositoryThenAutoConfigurationBacksOff() {
		this.contextRunner.withUserConfiguration(UserRepositoryConfiguration.class).run((context) -> {
			assertThat(context).doesNotHaveBean(MemcachedSessionRepository.class);
			assertThat(context).hasSingleBean(MapSessionRepository.class);
		});
	}

	@Test
	void whenTheUserDefinesTheirOwnSerializerThenItIsUsed() {
		this.contextRunner.withUserConfiguration(UserSerializerConfiguration.class)
			.run((context) -> assertThat(context.getBean(SessionSerializer.class))
				.isSameAs(context.getBean(UserSerializerConfiguration.class).serializer));
	}

	@Test
	void customizersAreApplied() {
		this.contextRunner.withUserConfiguration(CustomizerConfiguration.class)
			.run((context) -> assertThat(
					context.getBean(MemcachedSessionRepository.class).createSession().getMaxInactiveInterval())
				.isEqualTo(Duration.ofSeconds(42)));
	}

	@Test
	void nodeWithoutPortFailsNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.nodes=n1:host").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause()
				.hasMessageContaining("msm.nodes: 'n1:host' is not id:host:port");
		});
	}

	@Test
	void emptyNodesFailNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.nodes= ").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("msm.nodes");
		});
	}

	@Test
	void zeroOperationTimeoutFailsNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.operation-timeout=0").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("msm.operation-timeout");
		});
	}

	@Test
	void zeroBackupMaxLagFailsNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.backup-max-lag=0").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("msm.backup-max-lag");
		});
	}

	@Test
	void negativeBackupMaxLagFailsNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.backup-max-lag=-5ms").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("msm.backup-max-lag");
		});
	}

	@Test
	void backupMaxLagIsAppliedToTheRepository() {
		this.contextRunner.withPropertyValues("msm.backup-max-lag=250ms").run((context) -> {
			assertThat(context).hasNotFailed();
			assertThat(context.getBean(MemcachedSessionRepository.class))
				.extracting("backupMaxLag")
				.isEqualTo(java.time.Duration.ofMillis(250));
		});
	}

	@Test
	void keyPrefixWithSpaceFailsNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.key-prefix=my app").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("msm.key-prefix");
		});
	}

	@Test
	void credentialsWithTextProtocolFailNamingTheProtocolWithoutShowingThePassword() {
		this.contextRunner.withPropertyValues("msm.protocol=text", "msm.username=app", "msm.password=s3cret-pw")
			.run((context) -> {
				assertThat(context).hasFailed();
				assertThat(context.getStartupFailure()).rootCause()
					.hasMessageContaining("msm.protocol: SASL authentication (msm.username) needs the binary protocol");
				assertThat(context.getStartupFailure()).rootCause().hasMessageNotContaining("s3cret-pw");
			});
	}

	@Test
	void usernameWithoutPasswordFailsNamingThePassword() {
		this.contextRunner.withPropertyValues("msm.username=app").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause()
				.hasMessageContaining("msm.password: must be set with msm.username");
		});
	}

	@Test
	void passwordWithoutUsernameFailsNamingTheUsernameWithoutShowingThePassword() {
		this.contextRunner.withPropertyValues("msm.password=s3cret-pw").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause()
				.hasMessageContaining("msm.username: must be set with msm.password")
				.hasMessageNotContaining("s3cret-pw");
		});
	}

	@Test
	void proxyWithBinaryProtocolFailsNamingTheProtocol() {
		this.contextRunner.withPropertyValues("msm.proxy=true").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause()
				.hasMessageContaining("msm.protocol: a proxy (msm.proxy=true) such as twemproxy speaks only the text protocol");
		});
	}

	@Test
	void reservedKeyPrefixFailsNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.key-prefix=bak:x").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("msm.key-prefix");
		});
	}

	@Test
	void tinyMaxItemSizeFailsNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.max-item-size=10B").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("msm.max-item-size");
		});
	}

	@Test
	void failoverNodes() {
		this.contextRunner.withPropertyValues("msm.nodes=n1:localhost:11211 n2:localhost:11212",
				"msm.failover-nodes=n2")
			.run((context) -> {
				NodeRing ring = context.getBean(NodeRing.class);
				assertThat(ring.isFailoverNode(ring.node("n2"))).isTrue();
				assertThat(ring.isFailoverNode(ring.node("n1"))).isFalse();
			});
	}

	@Test
	void unknownFailoverNodeFailsNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.nodes=n1:localhost:11211 n2:localhost:11212",
				"msm.failover-nodes=n7")
			.run((context) -> {
				assertThat(context).hasFailed();
				assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("msm.failover-nodes");
			});
	}

	@Test
	void accessWriteFractionAboveHalfFailsNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.access-write-fraction=0.9").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("msm.access-write-fraction");
		});
	}

	@Test
	void badAllowedPackageFailsNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.serialization.allowed-packages=com.example,not a package")
			.run((context) -> {
				assertThat(context).hasFailed();
				assertThat(context.getStartupFailure()).rootCause()
					.hasMessageContaining("msm.serialization.allowed-packages");
			});
	}

	@Test
	void unknownProtocolFailsNamingTheProperty() {
		this.contextRunner.withPropertyValues("msm.protocol=udp").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).hasStackTraceContaining("msm.protocol");
		});
	}

	@Configuration(proxyBeanMethods = false)
	static class UserRepositoryConfiguration {

		@Bean
		MapSessionRepository mapSessionRepository() {
			return new MapSessionRepository(new java.util.concurrent.ConcurrentHashMap<>());
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class UserSerializerConfiguration {

		final SessionSerializer serializer = mock(SessionSerializer.class);

		@Bean
		SessionSerializer userSerializer() {
			return this.serializer;
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class CustomizerConfiguration {

		@Bean
		SessionRepositoryCustomizer<MemcachedSessionRepository> shortSessions() {
			return (repository) -> repository.setDefaultMaxInactiveInterval(Duration.ofSeconds(42));
		}

	}

}
