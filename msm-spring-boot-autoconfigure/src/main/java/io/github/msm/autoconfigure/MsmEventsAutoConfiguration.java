package io.github.msm.autoconfigure;

import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.SessionExpiryProbe;
import io.github.msm.session.event.ExpiryWatch;
import io.github.msm.session.event.SessionEvents;
import io.github.msm.session.sticky.StickySessionRepository;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.session.autoconfigure.SessionAutoConfiguration;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.util.Assert;

/**
 * Session events in both modes: created and deleted events where the session is created
 * or deleted, and an expired event once across the fleet ({@link ExpiryWatch}). Spring
 * Session's {@code SessionEventHttpSessionListenerAdapter} turns them into
 * {@code HttpSessionListener} calls.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
@AutoConfiguration(after = { MsmAutoConfiguration.class, MsmStickyAutoConfiguration.class },
		before = SessionAutoConfiguration.class)
@ConditionalOnBean(MemcachedSessionRepository.class)
@EnableConfigurationProperties(MsmEventsProperties.class)
public final class MsmEventsAutoConfiguration {

	/** Non-sticky mode: the repository tells the events what it creates, serves and deletes. */
	@Bean(destroyMethod = "close")
	@ConditionalOnBooleanProperty(name = "msm.sticky", havingValue = false, matchIfMissing = true)
	ExpiryWatch msmSessionExpiryWatch(MemcachedSessionRepository repository, MsmEventsProperties properties,
			ApplicationEventPublisher publisher, ObjectProvider<MeterRegistry> meterRegistry) {
		ExpiryWatch watch = watch(repository, repository, properties, publisher);
		repository.setLifecycleListener(new SessionEvents(repository, publisher, watch));
		meterRegistry.ifAvailable((registry) -> bind(watch, registry));
		watch.start();
		return watch;
	}

	/**
	 * Sticky mode: expiries of local copies are claimed, so one server publishes; sessions
	 * evicted from memory are watched like non-sticky ones.
	 */
	@Bean(destroyMethod = "close")
	@ConditionalOnBean(StickySessionRepository.class)
	ExpiryWatch msmStickySessionExpiryWatch(StickySessionRepository sticky, MsmEventsProperties properties,
			ApplicationEventPublisher publisher, ObjectProvider<MeterRegistry> meterRegistry) {
		ExpiryWatch watch = watch(sticky.memcachedRepository(), sticky, properties, publisher);
		sticky.setExpiryWatch(watch);
		meterRegistry.ifAvailable((registry) -> bind(watch, registry));
		watch.start();
		return watch;
	}

	private static ExpiryWatch watch(MemcachedSessionRepository repository, Object source,
			MsmEventsProperties properties, ApplicationEventPublisher publisher) {
		MsmPropertyChecks.apply("msm.events.max-sessions", properties.getMaxSessions(),
				(maxSessions) -> Assert.isTrue(maxSessions >= 1, "must be at least 1"));
		MsmPropertyChecks.apply("msm.events.check-interval", properties.getCheckInterval(),
				(interval) -> Assert.isTrue(interval.toMillis() > 0, "must be positive"));
		return new ExpiryWatch(new SessionExpiryProbe(repository), properties.getMaxSessions(),
				properties.getCheckInterval(), source, publisher);
	}

	private static void bind(ExpiryWatch watch, MeterRegistry registry) {
		Gauge.builder("msm.session.expiry.watched", watch, ExpiryWatch::trackedCount)
			.description("Sessions this server watches for their expiry")
			.register(registry);
		FunctionCounter.builder("msm.session.expiry.untracked", watch, ExpiryWatch::untrackedCount)
			.description("Sessions not watched for their expiry because msm.events.max-sessions was reached")
			.register(registry);
		FunctionCounter.builder("msm.session.expiry.published", watch, ExpiryWatch::publishedCount)
			.description("SessionExpiredEvents this server published (it won the claim)")
			.register(registry);
		FunctionCounter.builder("msm.session.expiry.missed", watch, ExpiryWatch::missedCount)
			.description("Expiries seen too late to claim, or whose claim no node took: no event")
			.register(registry);
	}

}
