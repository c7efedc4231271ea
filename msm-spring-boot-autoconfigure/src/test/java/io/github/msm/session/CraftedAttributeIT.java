package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;

import io.github.msm.session.serializer.CraftedGraphs;
import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Attribute bytes planted by whoever can write to memcached, crafted to be cheap to
 * store but costly to read, cost that attribute only: the request reads it as absent,
 * quickly, and goes on.
 */
class CraftedAttributeIT extends RepositoryITSupport {

	private static final String ID = "0123456789abcdef0123456789abcdef-n1";

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	static Stream<Named<byte[]>> craftedAttributes() {
		return Stream.of(Named.of("sets of sets nested 40 deep", CraftedGraphs.kryoBytes(CraftedGraphs.nestedSets(40))),
				Named.of("three sets of three sets, 18 levels (within the depth limit)",
						CraftedGraphs.kryoBytes(CraftedGraphs.wideNestedSets(3, 18))),
				Named.of("chain of 40,000 lists in a set",
						CraftedGraphs.kryoBytes(CraftedGraphs.listChainInSet(40_000))));
	}

	@ParameterizedTest
	@MethodSource("craftedAttributes")
	void getAttribute_CraftedAttribute_ShouldBeNullAndCountedWhileOthersStayReadable(byte[] crafted) throws Exception {
		plantSession(crafted);

		Map<String, Object> read = onRequestThread(() -> {
			MemcachedSession session = this.repository.findById(ID);
			Map<String, Object> attributes = new LinkedHashMap<>();
			attributes.put("found", session != null);
			attributes.put("crafted", session.getAttribute("crafted"));
			attributes.put("good", session.getAttribute("good"));
			return attributes;
		});

		assertThat(read).containsEntry("found", true).containsEntry("crafted", null).containsEntry("good", "fine");
		assertThat(this.registry.counter("msm.attribute.unreadable").count()).isEqualTo(1);
	}

	private static void plantSession(byte[] crafted) {
		Map<String, byte[]> attributes = new LinkedHashMap<>();
		attributes.put("good", kryo().serialize("fine"));
		attributes.put("crafted", crafted);
		Instant now = Instant.now();
		SessionCodec.Access access = new SessionCodec.Access(now, Duration.ZERO, now.getEpochSecond() + 3600);
		memcached.node("n1").set(ID, SessionCodec.encodeData(
				new SessionCodec.Data(kryo().id(), now, Duration.ofMinutes(30), 1, access, attributes)), 0);
	}

	/**
	 * Run a request on a thread with a 512 KB stack, as a servlet container started with
	 * {@code -Xss512k} has, so that a deep graph overflows it whatever the JVM's default;
	 * fail if it takes more than 5 seconds.
	 */
	private static <T> T onRequestThread(Supplier<T> request) throws InterruptedException {
		AtomicReference<T> result = new AtomicReference<>();
		AtomicReference<Throwable> failure = new AtomicReference<>();
		Thread thread = new Thread(null, () -> {
			try {
				result.set(request.get());
			}
			catch (Throwable ex) {
				failure.set(ex);
			}
		}, "request", 512 * 1024);
		thread.start();
		thread.join(Duration.ofSeconds(5).toMillis());
		assertThat(thread.isAlive()).as("request still running after 5 s").isFalse();
		assertThat(failure.get()).as("request failed").isNull();
		return result.get();
	}

}
