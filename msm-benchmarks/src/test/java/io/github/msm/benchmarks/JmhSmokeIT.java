package io.github.msm.benchmarks;

import java.util.Collection;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every JMH benchmark runs once, briefly and in this JVM, so that the benchmarks cannot
 * rot between full runs ({@code run-jmh.sh}). Their numbers are not checked: a test is no
 * place for timings.
 */
class JmhSmokeIT {

	@Test
	void benchmarks_OneShortIteration_ShouldAllProduceAScore() throws RunnerException {
		Options options = new OptionsBuilder().include("io\\.github\\.msm\\.benchmarks\\.jmh\\..*")
			.forks(0)
			.warmupIterations(0)
			.measurementIterations(1)
			.measurementTime(TimeValue.milliseconds(100))
			.timeUnit(TimeUnit.MICROSECONDS)
			.shouldFailOnError(true)
			.build();

		Collection<RunResult> results = new Runner(options).run();

		assertThat(results).extracting((result) -> result.getParams().getBenchmark() + result.getParams().getParam("serializer"))
			.contains("io.github.msm.benchmarks.jmh.SerializerBenchmark.serializeAndDeserializekryo",
					"io.github.msm.benchmarks.jmh.SerializerBenchmark.serializeAndDeserializejdk",
					"io.github.msm.benchmarks.jmh.RepositoryBenchmark.repositoryWritenull",
					"io.github.msm.benchmarks.jmh.RepositoryBenchmark.rawGetSetnull");
		assertThat(results).allSatisfy((result) -> assertThat(result.getPrimaryResult().getScore()).isPositive());
	}

}
