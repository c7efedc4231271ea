/**
 * JMH benchmarks of the store's parts: serializers and the repository's overhead over
 * plain spymemcached calls. Run with {@code msm-benchmarks/run-jmh.sh}.
 */
@NullMarked
package io.github.msm.benchmarks.jmh;

import org.jspecify.annotations.NullMarked;
