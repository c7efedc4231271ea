/**
 * Micrometer meters of the memcached session store: a MeterBinder, no Spring Boot.
 */
@NullMarked
package io.github.msm.metrics;

import org.jspecify.annotations.NullMarked;
