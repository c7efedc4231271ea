/**
 * The application that the end-to-end benchmark drives, one jar for every session store.
 */
@NullMarked
package io.github.msm.benchmarks.app;

import org.jspecify.annotations.NullMarked;
