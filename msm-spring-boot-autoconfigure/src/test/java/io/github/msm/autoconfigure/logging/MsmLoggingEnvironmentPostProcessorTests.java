package io.github.msm.autoconfigure.logging;

import java.util.Map;

import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringApplication;
import org.springframework.core.env.MapPropertySource;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;

class MsmLoggingEnvironmentPostProcessorTests {

	private final MsmLoggingEnvironmentPostProcessor processor = new MsmLoggingEnvironmentPostProcessor();

	@Test
	void postProcessEnvironment_WithoutUserLevel_ShouldHoldSpymemcachedAtError() {
		MockEnvironment environment = new MockEnvironment();

		this.processor.postProcessEnvironment(environment, new SpringApplication());

		assertThat(environment.getProperty("logging.level.net.spy.memcached")).isEqualTo("ERROR");
	}

	@Test
	void postProcessEnvironment_WithUserLevel_ShouldKeepIt() {
		MockEnvironment environment = new MockEnvironment();
		environment.getPropertySources()
			.addFirst(new MapPropertySource("application", Map.of("logging.level.net.spy.memcached", "INFO")));

		this.processor.postProcessEnvironment(environment, new SpringApplication());

		assertThat(environment.getProperty("logging.level.net.spy.memcached")).isEqualTo("INFO");
	}

	@Test
	void postProcessEnvironment_ShouldRouteSpymemcachedThroughSlf4j() {
		this.processor.postProcessEnvironment(new MockEnvironment(), new SpringApplication());

		assertThat(System.getProperty("net.spy.log.LoggerImpl")).isEqualTo("net.spy.memcached.compat.log.SLF4JLogger");
	}

	@Test
	void postProcessEnvironment_Twice_ShouldAddOnePropertySource() {
		MockEnvironment environment = new MockEnvironment();

		this.processor.postProcessEnvironment(environment, new SpringApplication());
		this.processor.postProcessEnvironment(environment, new SpringApplication());

		assertThat(environment.getPropertySources().stream().filter((source) -> source.getName().equals("msmLoggingDefaults")))
			.hasSize(1);
	}

}
