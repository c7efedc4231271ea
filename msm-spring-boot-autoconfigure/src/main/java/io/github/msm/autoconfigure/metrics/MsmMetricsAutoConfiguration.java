package io.github.msm.autoconfigure.metrics;

import io.github.msm.autoconfigure.MsmAutoConfiguration;
import io.github.msm.metrics.MsmMeterBinder;
import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.storage.MemcachedStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of the memcached session store's meters: a {@link MsmMeterBinder},
 * which Boot binds to its meter registry. Runs after Boot's metrics auto-configuration so
 * that the registry is there to condition on; without one, the store counts nowhere.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
@AutoConfiguration(after = MsmAutoConfiguration.class,
		afterName = { "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration" })
@ConditionalOnClass({ MeterRegistry.class, MeterBinder.class, MemcachedSessionRepository.class })
@ConditionalOnBean({ MeterRegistry.class, MemcachedSessionRepository.class, MemcachedStore.class })
public final class MsmMetricsAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	MsmMeterBinder msmMeterBinder(MemcachedSessionRepository sessionRepository, MemcachedStore store) {
		return new MsmMeterBinder(sessionRepository, store);
	}

}
