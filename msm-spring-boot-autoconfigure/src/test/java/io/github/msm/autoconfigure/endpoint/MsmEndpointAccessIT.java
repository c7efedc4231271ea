package io.github.msm.autoconfigure.endpoint;

import java.net.http.HttpResponse;
import java.util.Map;

import io.github.msm.autoconfigure.web.CounterApplication;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServers;
import io.github.msm.test.SessionHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code msm} endpoint exposed over HTTP without granting write access: it reads, and
 * its drain operation does not exist.
 */
@SpringBootTest(classes = CounterApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = "management.endpoints.web.exposure.include=msm")
class MsmEndpointAccessIT {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@DynamicPropertySource
	static void memcachedNodes(DynamicPropertyRegistry registry) {
		registry.add("msm.nodes", memcached::nodesProperty);
	}

	@LocalServerPort
	int port;

	@Autowired
	MemcachedStore store;

	@Test
	void read_ByDefault_ShouldBeAllowed() {
		HttpResponse<String> response = SessionHttpClient.forPort(this.port).get("/actuator/msm");

		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.body()).contains("\"nodes\"");
	}

	@Test
	void drain_ByDefault_ShouldNotBeAvailableAndDrainNothing() {
		HttpResponse<String> response = SessionHttpClient.forPort(this.port)
			.postJson("/actuator/msm/n1", "{\"action\":\"drain\"}", Map.of());

		assertThat(response.statusCode()).isIn(404, 405);
		assertThat(this.store.availability().nodes()).noneMatch(this.store.availability()::isDrained);
	}

}
