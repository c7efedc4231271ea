package io.github.msm.benchmarks.jmh;

import java.util.Map;

/**
 * Prints the serialized size of every attribute of the {@link RealisticSession} with each
 * serializer, and the ratio of the totals: the "bytes" half of the serializer comparison
 * (sizes do not need JMH, they do not vary).
 *
 * @author msm-spring-boot
 */
public final class SerializedSizes {

	private SerializedSizes() {
	}

	public static void main(String[] args) {
		Map<String, Object> attributes = RealisticSession.attributes();
		var kryo = SerializerBenchmark.serializer("kryo");
		var jdk = SerializerBenchmark.serializer("jdk");
		int kryoTotal = 0;
		int jdkTotal = 0;
		System.out.printf("%-24s %8s %8s%n", "attribute", "kryo", "jdk");
		for (Map.Entry<String, Object> attribute : attributes.entrySet()) {
			int kryoBytes = kryo.serialize(attribute.getValue()).length;
			int jdkBytes = jdk.serialize(attribute.getValue()).length;
			kryoTotal += kryoBytes;
			jdkTotal += jdkBytes;
			System.out.printf("%-24s %8d %8d%n", attribute.getKey(), kryoBytes, jdkBytes);
		}
		System.out.printf("%-24s %8d %8d%n", "total", kryoTotal, jdkTotal);
		System.out.printf("SIZES kryo=%d jdk=%d ratio=%.3f%n", kryoTotal, jdkTotal, (double) kryoTotal / jdkTotal);
	}

}
