package io.github.msm.benchmarks.jmh;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * The project's target ratios measured so that a busy, shared machine disturbs them
 * least: the two sides of each comparison run in turn, in short slices (A, B, A, B, ...),
 * so that whatever else the machine does hits both alike, and the ratio is the median
 * of the per-slice ratios. Serializers are compared by the CPU time of this thread
 * (they compute only); the repository and spymemcached by the CPU time of the whole JVM
 * (the request thread, spymemcached's IO thread, queued backups), which a busy machine
 * disturbs far less than elapsed time, and by elapsed time too. JMH's own numbers
 * ({@code run-jmh.sh}) come from separate, longer windows: read them for absolute
 * times on a quiet machine.
 *
 * @author msm-spring-boot
 */
public final class AlternatingComparison {

	private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

	private static final int SLICES = 21;

	private AlternatingComparison() {
	}

	public static void main(String[] args) throws Exception {
		long sliceMillis = (args.length > 0) ? Long.parseLong(args[0]) : 250;
		SerializerBenchmark kryo = new SerializerBenchmark();
		kryo.serializer = "kryo";
		kryo.setUp();
		SerializerBenchmark jdk = new SerializerBenchmark();
		jdk.serializer = "jdk";
		jdk.setUp();
		compare("serialize+deserialize, thread CPU µs: JDK / Kryo", Clock.THREAD_CPU, sliceMillis, jdk::roundTrip,
				kryo::roundTrip);

		RepositoryBenchmark repository = new RepositoryBenchmark();
		repository.setUp();
		try {
			for (Clock clock : new Clock[] { Clock.PROCESS_CPU, Clock.ELAPSED }) {
				compare("findById+change+save / get+set, " + clock.label, clock, sliceMillis,
						repository::repositoryWrite, repository::rawGetSet);
				compare("findById+read+save / get, " + clock.label, clock, sliceMillis, repository::repositoryRead,
						repository::rawGet);
			}
		}
		finally {
			repository.tearDown();
		}
	}

	private static void compare(String name, Clock cpu, long sliceMillis, Callable<?> a, Callable<?> b)
			throws Exception {
		for (int i = 0; i < 4; i++) { // warm-up: both sides compiled before measuring
			slice(a, cpu, sliceMillis);
			slice(b, cpu, sliceMillis);
		}
		double[] aTimes = new double[SLICES];
		double[] bTimes = new double[SLICES];
		double[] ratios = new double[SLICES];
		for (int i = 0; i < SLICES; i++) {
			aTimes[i] = slice(a, cpu, sliceMillis);
			bTimes[i] = slice(b, cpu, sliceMillis);
			ratios[i] = aTimes[i] / bTimes[i];
		}
		System.out.printf("RATIO %s: %.2f (A %.1f µs/op, B %.1f µs/op, medians of %d alternating slices of %d ms;"
				+ " ratio quartiles %.2f–%.2f)%n", name, median(ratios), median(aTimes) / 1000, median(bTimes) / 1000,
				SLICES, sliceMillis, quantile(ratios, 0.25), quantile(ratios, 0.75));
	}

	/** Nanoseconds per call over one slice, by the given clock. */
	private static double slice(Callable<?> operation, Clock clock, long millis) throws Exception {
		long end = System.nanoTime() + millis * 1_000_000;
		long start = clock.now();
		long calls = 0;
		int sink = 0;
		do {
			sink += System.identityHashCode(operation.call());
			calls++;
		}
		while (System.nanoTime() < end);
		long spent = clock.now() - start;
		if (sink == 42) {
			System.out.print(""); // keeps the results alive
		}
		return (double) spent / calls;
	}

	/** What a slice is timed by. */
	private enum Clock {

		THREAD_CPU("thread CPU µs") {
			@Override
			long now() {
				return THREADS.getCurrentThreadCpuTime();
			}
		},

		PROCESS_CPU("JVM CPU µs") {
			@Override
			long now() {
				return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
					.getProcessCpuTime();
			}
		},

		ELAPSED("elapsed µs") {
			@Override
			long now() {
				return System.nanoTime();
			}
		};

		final String label;

		Clock(String label) {
			this.label = label;
		}

		abstract long now();

	}

	private static double median(double[] values) {
		return quantile(values, 0.5);
	}

	private static double quantile(double[] values, double q) {
		double[] sorted = values.clone();
		Arrays.sort(sorted);
		return sorted[(int) Math.round(q * (sorted.length - 1))];
	}

}
