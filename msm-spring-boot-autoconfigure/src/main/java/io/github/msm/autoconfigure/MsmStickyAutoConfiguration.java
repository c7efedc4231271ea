package io.github.msm.autoconfigure;

import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.sticky.StickySessionRepository;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.session.autoconfigure.SessionAutoConfiguration;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;

/**
 * Sticky mode ({@code msm.sticky=true}): puts a {@link StickySessionRepository} in front
 * of the memcached repository, as the one Spring Session's filter uses. The memcached
 * repository stays a bean of its own (its customizers and users keep working); sticky
 * mode reads and writes memcached through it.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
@AutoConfiguration(after = MsmAutoConfiguration.class, before = SessionAutoConfiguration.class)
@ConditionalOnBean(MemcachedSessionRepository.class)
@ConditionalOnBooleanProperty("msm.sticky")
@EnableConfigurationProperties(MsmStickyProperties.class)
public final class MsmStickyAutoConfiguration {

	@Bean(destroyMethod = "shutdown")
	@Primary
	StickySessionRepository stickySessionRepository(MsmProperties properties, MsmStickyProperties sticky,
			MemcachedSessionRepository memcached, ApplicationEventPublisher eventPublisher,
			ObjectProvider<MeterRegistry> meterRegistry) {
		if (properties.getJvmRoute() == null) {
			throw new InvalidConfigurationPropertyValueException("msm.sticky", "true",
					"sticky mode needs msm.jvm-route (this server's route, e.g. app1) and a load balancer that routes"
							+ " by it: without a route in the session id a server cannot tell that another one took a"
							+ " session over, and would serve its older copy when the user comes back");
		}
		StickySessionRepository repository = new StickySessionRepository(memcached);
		MsmPropertyChecks.apply("msm.sticky.max-sessions", sticky.getMaxSessions(), repository::setMaxSessions);
		if (sticky.isAsyncWrites()) {
			MsmPropertyChecks.apply("msm.sticky.write-queue-capacity", sticky.getWriteQueueCapacity(),
					(capacity) -> repository.setAsyncWrites(true, capacity));
		}
		repository.setApplicationEventPublisher(eventPublisher);
		meterRegistry.ifAvailable(repository::setMeterRegistry);
		MsmPropertyChecks.apply("msm.sticky.sweep-interval", sticky.getSweepInterval(), repository::startSweeper);
		return repository;
	}

}
