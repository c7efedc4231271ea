/**
 * Boot glue for the store's logging: spymemcached through SLF4J, and quiet by default.
 */
@NullMarked
package io.github.msm.autoconfigure.logging;

import org.jspecify.annotations.NullMarked;
