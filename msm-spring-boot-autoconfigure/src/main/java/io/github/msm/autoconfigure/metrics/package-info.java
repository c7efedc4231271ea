/**
 * Auto-configuration of the store's Micrometer meters.
 */
@NullMarked
package io.github.msm.autoconfigure.metrics;

import org.jspecify.annotations.NullMarked;
