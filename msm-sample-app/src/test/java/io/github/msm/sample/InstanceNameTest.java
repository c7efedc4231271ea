package io.github.msm.sample;

import org.junit.jupiter.api.Test;

import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;

class InstanceNameTest {

	private final MockEnvironment environment = new MockEnvironment();

	private final InstanceName instanceName = new InstanceName(this.environment);

	@Test
	void get_WhenAppInstanceIsSet_ShouldUseIt() {
		this.environment.setProperty("app.instance", "app1");
		this.environment.setProperty("msm.jvm-route", "route1");

		assertThat(this.instanceName.get()).isEqualTo("app1");
	}

	@Test
	void get_WhenOnlyJvmRouteIsSet_ShouldUseIt() {
		this.environment.setProperty("msm.jvm-route", "route1");

		assertThat(this.instanceName.get()).isEqualTo("route1");
	}

	@Test
	void get_WhenNothingIsSet_ShouldUseHostAndLocalPort() {
		this.environment.setProperty("local.server.port", "8081");

		assertThat(this.instanceName.get()).endsWith(":8081");
	}

}
