package io.github.msm.autoconfigure.flush;

import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.github.msm.test.MemcachedServers;
import io.github.msm.test.SessionHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * With {@code msm.flush-mode=immediate}, a long request's change reaches memcached when it
 * is made, not when the request ends.
 */
@SpringBootTest(classes = SlowRequestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = "msm.flush-mode=immediate")
class FlushModeWebIT {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@DynamicPropertySource
	static void memcachedNodes(DynamicPropertyRegistry registry) {
		registry.add("msm.nodes", memcached::nodesProperty);
	}

	@LocalServerPort
	int port;

	@Test
	void attributeSetMidRequest_ShouldBeVisibleToAConcurrentReaderBeforeTheRequestEnds() throws Exception {
		CountDownLatch release = new CountDownLatch(1);
		SlowRequestApplication.release = release;
		SessionHttpClient writer = SessionHttpClient.forPort(this.port);
		assertThat(writer.get("/step").body()).isEqualTo("null");
		String id = writer.sessionCookie();
		SessionHttpClient reader = SessionHttpClient.forPort(this.port);

		CompletableFuture<HttpResponse<String>> slow = CompletableFuture.supplyAsync(() -> writer.post("/slow"));

		try {
			await().untilAsserted(() -> assertThat(reader.getWithSessionCookie("/step", id).body()).isEqualTo("started"));
			assertThat(slow).isNotDone();
		}
		finally {
			release.countDown();
		}
		assertThat(slow.get(30, TimeUnit.SECONDS).body()).isEqualTo("done");
		assertThat(reader.getWithSessionCookie("/step", id).body()).isEqualTo("done");
	}

}
