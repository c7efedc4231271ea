package io.github.msm.autoconfigure.logging;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import io.github.msm.autoconfigure.web.CounterApplication;
import io.github.msm.health.MemcachedSessionHealthIndicator;
import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.test.MemcachedServer;
import io.github.msm.test.MemcachedServers;
import io.github.msm.test.SessionHttpClient;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.logging.LogLevel;
import org.springframework.boot.logging.LoggingSystem;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What a plain application with the starter, and no logging configuration of its own,
 * logs while a memcached node is down and requests keep coming: the node's outage in a
 * few lines (spymemcached's reconnect lines are routed through SLF4J and held at ERROR),
 * and never a session id.
 */
@SpringBootTest(classes = CounterApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ExtendWith(OutputCaptureExtension.class)
class NodeOutageLogIT {

	private static final int BROWSERS = 20;

	/** How long traffic runs against the dead node: many reconnect attempts of spymemcached. */
	private static final Duration OUTAGE = Duration.ofSeconds(10);

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

	@Autowired
	MemcachedSessionRepository repository;

	@Autowired
	MemcachedSessionHealthIndicator health;

	@Autowired
	MeterRegistry meters;

	@Autowired
	LoggingSystem loggingSystem;

	private final Set<String> sessionIds = ConcurrentHashMap.newKeySet();

	@BeforeEach
	void allNodesUp() {
		await().atMost(Duration.ofSeconds(30))
			.until(() -> this.store.availability().nodes().stream().allMatch(this.store.availability()::isAvailable));
	}

	@Test
	void nodeKilled_WhileRequestsContinue_ShouldLogAtMostThreeLines(CapturedOutput output) {
		List<SessionHttpClient> browsers = browsers();
		int before = output.getAll().length();

		MemcachedServer victim = memcached.node(0);
		victim.kill();
		browseFor(browsers, OUTAGE);
		await().until(() -> !this.store.availability().isAvailable(node(victim)));
		List<String> logged = lines(output.getAll().substring(before));
		report(logged);

		assertThat(logged).hasSizeLessThanOrEqualTo(3);
	}

	@Test
	void nodeKilled_WithMsmAtDebug_ShouldLogNoSessionId(CapturedOutput output) {
		this.loggingSystem.setLogLevel("io.github.msm", LogLevel.DEBUG);
		try {
			List<SessionHttpClient> browsers = browsers();
			browsers.forEach((browser) -> remember(browser.post("/login").body()));
			memcached.node(0).kill();
			browseFor(browsers, Duration.ofSeconds(3));
			await().until(() -> !this.store.availability().isAvailable(node(memcached.node(0))));
		}
		finally {
			this.loggingSystem.setLogLevel("io.github.msm", null);
		}
		String all = output.getAll();

		assertThat(this.sessionIds).hasSizeGreaterThan(BROWSERS);
		assertThat(this.sessionIds).allSatisfy((id) -> assertThat(all).doesNotContain(id));
	}

	private List<SessionHttpClient> browsers() {
		List<SessionHttpClient> browsers = new ArrayList<>();
		for (int i = 0; i < BROWSERS; i++) {
			SessionHttpClient browser = SessionHttpClient.forPort(this.port);
			remember(browser.post("/counter").body());
			browsers.add(browser);
		}
		this.repository.awaitBackupWrites();
		return browsers;
	}

	/** Each browser posts in turn until the time is up: bounded by time and by count. */
	private void browseFor(List<SessionHttpClient> browsers, Duration duration) {
		long end = System.nanoTime() + duration.toNanos();
		for (int round = 0; round < 1_000 && System.nanoTime() < end; round++) {
			for (SessionHttpClient browser : browsers) {
				remember(browser.post("/counter").body());
			}
		}
	}

	private void remember(String body) {
		this.sessionIds.add(body.split(" ")[0]);
	}

	private MemcachedNode node(MemcachedServer server) {
		return this.store.availability()
			.nodes()
			.stream()
			.filter((node) -> node.id().equals(server.nodeId()))
			.findFirst()
			.orElseThrow();
	}

	private static List<String> lines(String text) {
		return Arrays.stream(text.split("\\R")).filter((line) -> !line.isBlank()).toList();
	}

	/** The closing note of an outage: what an operator sees (in the test's output file). */
	private void report(List<String> logged) {
		StringBuilder report = new StringBuilder("\n=== log lines while node n1 was down (").append(logged.size())
			.append(") ===\n");
		logged.forEach((line) -> report.append(line).append('\n'));
		report.append("=== health ===\n").append(this.health.health(true)).append('\n');
		report.append("=== meters ===\n");
		this.meters.getMeters()
			.stream()
			.filter((meter) -> meter.getId().getName().startsWith("msm."))
			.filter((meter) -> meter.getId().getType() != Meter.Type.TIMER
					&& meter.getId().getType() != Meter.Type.DISTRIBUTION_SUMMARY)
			.map((meter) -> meter.getId().getName() + meter.getId().getTags().stream()
				.map((tag) -> tag.getKey() + "=" + tag.getValue())
				.collect(Collectors.joining(",", "{", "}")) + " " + meter.measure().iterator().next().getValue())
			.sorted()
			.forEach((line) -> report.append(line).append('\n'));
		System.out.println(report);
	}

}
