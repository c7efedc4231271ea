/**
 * The memcached session store's health indicator.
 */
@NullMarked
package io.github.msm.health;

import org.jspecify.annotations.NullMarked;
