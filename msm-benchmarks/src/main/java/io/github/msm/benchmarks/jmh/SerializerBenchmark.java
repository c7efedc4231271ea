package io.github.msm.benchmarks.jmh;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.github.msm.session.serializer.ClassAllowList;
import io.github.msm.session.serializer.JdkSessionSerializer;
import io.github.msm.session.serializer.KryoSessionSerializer;
import io.github.msm.session.serializer.SessionSerializer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Kryo against Java serialization on a {@link RealisticSession}, each attribute on its
 * own as the store writes them: time of serializing and deserializing every attribute
 * once. The bytes are printed by {@link SerializedSizes}.
 *
 * @author msm-spring-boot
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SerializerBenchmark {

	/** Which serializer. */
	@Param({ "kryo", "jdk" })
	public String serializer;

	private SessionSerializer sessionSerializer;

	private List<Object> values;

	private List<byte[]> serialized;

	@Setup
	public void setUp() {
		this.sessionSerializer = serializer(this.serializer);
		Map<String, Object> attributes = RealisticSession.attributes();
		this.values = new ArrayList<>(attributes.values());
		this.serialized = new ArrayList<>();
		for (Object value : this.values) {
			this.serialized.add(this.sessionSerializer.serialize(value));
		}
	}

	/** What a write and the next read of the whole session cost. */
	@Benchmark
	public void serializeAndDeserialize(Blackhole blackhole) {
		for (Object value : this.values) {
			byte[] bytes = this.sessionSerializer.serialize(value);
			blackhole.consume(this.sessionSerializer.deserialize(bytes));
		}
	}

	/**
	 * The same work as {@link #serializeAndDeserialize}, for callers without a
	 * {@link Blackhole}.
	 * @return what was read back, summed up so that no work can be left out
	 */
	public int roundTrip() {
		int sum = 0;
		for (Object value : this.values) {
			byte[] bytes = this.sessionSerializer.serialize(value);
			sum += bytes.length + System.identityHashCode(this.sessionSerializer.deserialize(bytes));
		}
		return sum;
	}

	/** Writes alone. */
	@Benchmark
	public void serialize(Blackhole blackhole) {
		for (Object value : this.values) {
			blackhole.consume(this.sessionSerializer.serialize(value));
		}
	}

	/** Reads alone. */
	@Benchmark
	public void deserialize(Blackhole blackhole) {
		for (byte[] bytes : this.serialized) {
			blackhole.consume(this.sessionSerializer.deserialize(bytes));
		}
	}

	static SessionSerializer serializer(String name) {
		ClassAllowList allowList = ClassAllowList.of(RealisticSession.PACKAGES);
		ClassLoader classLoader = SerializerBenchmark.class.getClassLoader();
		return switch (name) {
			case "kryo" -> new KryoSessionSerializer(allowList, classLoader);
			case "jdk" -> new JdkSessionSerializer(allowList, classLoader);
			default -> throw new IllegalArgumentException("no serializer '" + name + "'");
		};
	}

}
