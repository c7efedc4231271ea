package io.github.msm.autoconfigure.drain;

import java.time.Clock;

import io.github.msm.autoconfigure.MsmAutoConfiguration;
import io.github.msm.autoconfigure.MsmProperties;
import io.github.msm.session.drain.FleetDrain;
import io.github.msm.session.storage.MemcachedStore;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of {@link FleetDrain}: every server reads the fleet's drain records,
 * whether or not it exposes the {@code msm} endpoint, so that a drain sent to any server
 * holds for all of them.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
@AutoConfiguration(after = MsmAutoConfiguration.class)
@ConditionalOnClass(MemcachedStore.class)
@ConditionalOnBean({ MemcachedStore.class, MsmProperties.class })
public final class MsmFleetDrainAutoConfiguration {

	@Bean(initMethod = "start")
	@ConditionalOnMissingBean
	FleetDrain msmFleetDrain(MemcachedStore store, MsmProperties properties) {
		return new FleetDrain(store, properties.getKeyPrefix(), Clock.systemUTC(), FleetDrain.DEFAULT_POLL_INTERVAL);
	}

}
