package io.github.msm.autoconfigure;

import io.github.msm.autoconfigure.endpoint.MsmEndpointAutoConfiguration;
import io.github.msm.autoconfigure.health.MsmHealthContributorAutoConfiguration;
import io.github.msm.autoconfigure.metrics.MsmMetricsAutoConfiguration;
import io.github.msm.endpoint.MsmEndpoint;
import io.github.msm.health.MemcachedSessionHealthIndicator;
import io.github.msm.metrics.MsmMeterBinder;
import io.github.msm.test.MemcachedServers;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.session.autoconfigure.SessionAutoConfiguration;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The meters, health indicator and endpoint each come from their own auto-configuration
 * and back off like Boot's own.
 */
class MsmOperationsAutoConfigurationTests {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	private final WebApplicationContextRunner contextRunner = new WebApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(SessionAutoConfiguration.class, MsmAutoConfiguration.class,
				MsmMetricsAutoConfiguration.class, MsmHealthContributorAutoConfiguration.class,
				MsmEndpointAutoConfiguration.class))
		.withPropertyValues("msm.nodes=" + memcached.nodesProperty());

	private final WebApplicationContextRunner withMetrics = this.contextRunner
		.withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
				CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class));

	@Test
	void meterRegistry_ShouldGetTheStoresMeters() {
		this.withMetrics.run((context) -> {
			assertThat(context).hasSingleBean(MsmMeterBinder.class);
			MeterRegistry registry = context.getBean(MeterRegistry.class);
			assertThat(registry.find("msm.session.saves").tag("outcome", "written").counter()).isNotNull();
			assertThat(registry.find("msm.node.up").gauges()).hasSize(2);
		});
	}

	@Test
	void meterRegistry_WhenMsmMetricsAreDisabled_ShouldHoldNoMsmMeter() {
		this.withMetrics.withPropertyValues("management.metrics.enable.msm=false")
			.run((context) -> assertThat(context.getBean(MeterRegistry.class).find("msm.session.saves").counters())
				.isEmpty());
	}

	@Test
	void noMeterRegistry_ShouldBindNoMeters() {
		this.contextRunner.run((context) -> assertThat(context).doesNotHaveBean(MsmMeterBinder.class));
	}

	@Test
	void healthIndicator_ShouldBeThereUnlessDisabled() {
		this.contextRunner.run((context) -> assertThat(context).hasBean("memcachedSessionHealthIndicator")
			.hasSingleBean(MemcachedSessionHealthIndicator.class));
		this.contextRunner.withPropertyValues("management.health.memcached-session.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(MemcachedSessionHealthIndicator.class));
	}

	@Test
	void endpoint_WhenExposed_ShouldShowNodesAndSettingsButNoSecret() {
		this.contextRunner
			.withPropertyValues("management.endpoints.web.exposure.include=msm", "msm.key-prefix=shop:",
					"msm.username=shop", "msm.password=s3cret")
			.run((context) -> {
				Object body = context.getBean(MsmEndpoint.class).msm();
				assertThat(body.toString()).contains("keyPrefix=shop:", "id=n1", "id=n2", "non-sticky")
					.doesNotContain("s3cret");
			});
	}

	@Test
	void endpoint_WhenNotExposed_ShouldBeAbsent() {
		this.contextRunner.run((context) -> assertThat(context).doesNotHaveBean(MsmEndpoint.class));
	}

}
