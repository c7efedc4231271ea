package io.github.msm.autoconfigure.endpoint;

import java.util.LinkedHashMap;
import java.util.Map;

import io.github.msm.autoconfigure.MsmAutoConfiguration;
import io.github.msm.autoconfigure.MsmLockingProperties;
import io.github.msm.autoconfigure.MsmProperties;
import io.github.msm.autoconfigure.drain.MsmFleetDrainAutoConfiguration;
import io.github.msm.endpoint.MsmEndpoint;
import io.github.msm.session.drain.FleetDrain;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.serializer.SessionSerializer;
import io.github.msm.session.storage.MemcachedStore;

import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of the {@code msm} actuator endpoint. It shows a fixed list of
 * settings, never the whole {@code msm.*} tree, so that a secret added to the properties
 * (a SASL password) is never exposed.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
@AutoConfiguration(after = { MsmAutoConfiguration.class, MsmFleetDrainAutoConfiguration.class })
@ConditionalOnClass({ ConditionalOnAvailableEndpoint.class, MemcachedStore.class })
@ConditionalOnBean({ MemcachedStore.class, NodeRing.class, MsmProperties.class })
@ConditionalOnAvailableEndpoint(MsmEndpoint.class)
public final class MsmEndpointAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	MsmEndpoint msmEndpoint(MemcachedStore store, NodeRing ring, MsmProperties properties,
			SessionSerializer serializer, org.springframework.beans.factory.ObjectProvider<MsmLockingProperties> locking,
			org.springframework.beans.factory.ObjectProvider<FleetDrain> fleetDrain) {
		Map<String, Object> settings = new LinkedHashMap<>();
		settings.put("mode", properties.isSticky() ? "sticky" : "non-sticky");
		if (properties.getJvmRoute() != null) {
			settings.put("jvmRoute", properties.getJvmRoute());
		}
		MsmLockingProperties lockingProperties = locking.getIfAvailable();
		settings.put("lockingMode", (properties.isSticky() || lockingProperties == null) ? "none"
				: lockingProperties.getLockingMode().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
		settings.put("flushMode", properties.getFlushMode().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
		settings.put("saveMode", properties.getSaveMode().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
		settings.put("indexPrincipal", properties.isIndexPrincipal());
		settings.put("serializer", serializer.getClass().getSimpleName());
		settings.put("keyPrefix", properties.getKeyPrefix());
		settings.put("protocol", properties.getProtocol().name().toLowerCase(java.util.Locale.ROOT));
		settings.put("operationTimeoutMillis", store.operationTimeout().toMillis());
		settings.put("backupAsync", properties.isBackupAsync());
		settings.put("backupMaxLagMillis", properties.getBackupMaxLag().toMillis());
		settings.put("maxItemSize", properties.getMaxItemSize().toBytes());
		return new MsmEndpoint(store, ring, settings, fleetDrain.getIfAvailable());
	}

}
