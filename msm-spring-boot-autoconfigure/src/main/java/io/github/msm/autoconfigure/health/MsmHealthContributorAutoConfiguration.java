package io.github.msm.autoconfigure.health;

import io.github.msm.autoconfigure.MsmAutoConfiguration;
import io.github.msm.health.MemcachedSessionHealthIndicator;
import io.github.msm.session.storage.MemcachedStore;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of the {@code memcachedSession} health contributor
 * ({@code management.health.memcached-session.enabled}).
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
@AutoConfiguration(after = MsmAutoConfiguration.class)
@ConditionalOnClass({ HealthIndicator.class, MemcachedStore.class })
@ConditionalOnBean(MemcachedStore.class)
@ConditionalOnEnabledHealthIndicator("memcached-session")
public final class MsmHealthContributorAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean(name = "memcachedSessionHealthIndicator")
	MemcachedSessionHealthIndicator memcachedSessionHealthIndicator(MemcachedStore store) {
		return new MemcachedSessionHealthIndicator(store);
	}

}
