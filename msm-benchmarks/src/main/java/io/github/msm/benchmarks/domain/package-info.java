/**
 * Domain objects of the realistic session that the serializer benchmark stores.
 */
@NullMarked
package io.github.msm.benchmarks.domain;

import org.jspecify.annotations.NullMarked;
