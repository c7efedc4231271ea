/**
 * Spring Boot auto-configuration of the memcached session store.
 */
@NullMarked
package io.github.msm.autoconfigure;

import org.jspecify.annotations.NullMarked;
