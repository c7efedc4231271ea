package io.github.msm.autoconfigure.logging;

import java.util.Map;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Routes spymemcached's logging through SLF4J and turns it down to ERROR unless the
 * application configured it, before the logging system and any memcached client start.
 *
 * <p>
 * Left alone, spymemcached logs to stderr by itself, and at INFO and WARN it writes a
 * line, often with a stack trace, for every reconnect attempt: one dead node gave a
 * plain app ~480 lines in 20 s. The store reports what an operator needs itself (one
 * WARN when a node goes down, one INFO when it is back, incidents at most once per kind
 * every 10 s, everything counted in meters), so spymemcached's own lines add only
 * noise.
 *
 * <p>
 * {@code net.spy.log.LoggerImpl} is set as a system property only when absent, and
 * {@code logging.level.net.spy.memcached=ERROR} is added as the environment's last
 * property source: any {@code logging.level.net.spy.memcached} the application sets
 * (properties, YAML, environment variable, command line) wins. A level set only in a
 * logback or log4j2 file is overridden by Boot's {@code logging.level} handling, as for
 * any {@code logging.level} property; set the property to change it.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class MsmLoggingEnvironmentPostProcessor implements EnvironmentPostProcessor, Ordered {

	/** The system property spymemcached reads to choose its logger. */
	static final String LOGGER_IMPL = "net.spy.log.LoggerImpl";

	/** spymemcached's SLF4J logger. */
	static final String SLF4J_LOGGER = "net.spy.memcached.compat.log.SLF4JLogger";

	/** The property whose default this sets. */
	static final String LEVEL_PROPERTY = "logging.level.net.spy.memcached";

	/** The name of the property source holding the default. */
	static final String PROPERTY_SOURCE_NAME = "msmLoggingDefaults";

	@Override
	public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
		if (System.getProperty(LOGGER_IMPL) == null) {
			System.setProperty(LOGGER_IMPL, SLF4J_LOGGER);
		}
		if (!environment.getPropertySources().contains(PROPERTY_SOURCE_NAME)) {
			environment.getPropertySources()
				.addLast(new MapPropertySource(PROPERTY_SOURCE_NAME, Map.of(LEVEL_PROPERTY, "ERROR")));
		}
	}

	@Override
	public int getOrder() {
		// after the config data is loaded, so that addLast really is the last source
		return Ordered.LOWEST_PRECEDENCE;
	}

}
