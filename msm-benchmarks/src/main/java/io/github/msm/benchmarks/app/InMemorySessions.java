package io.github.msm.benchmarks.app;

import java.util.concurrent.ConcurrentHashMap;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Profile;
import org.springframework.session.MapSessionRepository;
import org.springframework.session.config.annotation.web.http.EnableSpringHttpSession;

/**
 * The in-memory variant: Spring Session over a {@link MapSessionRepository}, so that the
 * baseline pays for the same session filter as the other variants and only the store
 * differs. Its repository makes the Redis auto-configuration back off.
 *
 * @author msm-spring-boot
 */
@Configuration(proxyBeanMethods = false)
@Profile("inmemory")
@EnableSpringHttpSession
class InMemorySessions {

	@Bean
	MapSessionRepository sessionRepository() {
		return new MapSessionRepository(new ConcurrentHashMap<>());
	}

}
