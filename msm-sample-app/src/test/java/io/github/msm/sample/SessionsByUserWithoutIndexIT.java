package io.github.msm.sample;

import java.net.http.HttpResponse;

import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.session.FindByIndexNameSessionRepository;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Without the principal index (the default) the store is a plain session repository:
 * Boot's sessions endpoint has no lookup by user name, as with any non-indexed store.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = "management.endpoints.web.exposure.include=sessions")
@DirtiesContext
class SessionsByUserWithoutIndexIT {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@DynamicPropertySource
	static void memcachedNodes(DynamicPropertyRegistry registry) {
		registry.add("msm.nodes", memcached::nodesProperty);
	}

	@LocalServerPort
	private int port;

	@Autowired
	private ApplicationContext context;

	@Test
	void sessionsByUsername_WithoutIndex_ShouldBeAbsent() {
		HttpResponse<String> response = ApiClient.forPort(this.port).get("/actuator/sessions?username=demo");

		assertThat(response.statusCode()).isEqualTo(404);
		assertThat(this.context.getBeanNamesForType(FindByIndexNameSessionRepository.class)).isEmpty();
	}

}
