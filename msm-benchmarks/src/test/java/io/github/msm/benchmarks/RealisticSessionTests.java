package io.github.msm.benchmarks;

import java.util.Map;

import io.github.msm.benchmarks.jmh.RealisticSession;
import io.github.msm.session.serializer.ClassAllowList;
import io.github.msm.session.serializer.JdkSessionSerializer;
import io.github.msm.session.serializer.KryoSessionSerializer;
import io.github.msm.session.serializer.SessionSerializer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The serializer benchmark compares like with like only if both serializers read back
 * what they wrote.
 */
class RealisticSessionTests {

	private final ClassAllowList allowList = ClassAllowList.of(RealisticSession.PACKAGES);

	@Test
	void kryo_RealisticSession_ShouldReadBackEveryAttribute() {
		assertRoundTrips(new KryoSessionSerializer(this.allowList, getClass().getClassLoader()));
	}

	@Test
	void jdk_RealisticSession_ShouldReadBackEveryAttribute() {
		assertRoundTrips(new JdkSessionSerializer(this.allowList, getClass().getClassLoader()));
	}

	private static void assertRoundTrips(SessionSerializer serializer) {
		for (Map.Entry<String, Object> attribute : RealisticSession.attributes().entrySet()) {
			Object copy = serializer.deserialize(serializer.serialize(attribute.getValue()));
			assertThat(copy).as(attribute.getKey()).usingRecursiveComparison().isEqualTo(attribute.getValue());
		}
	}

}
