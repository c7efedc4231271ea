/**
 * The {@code msm} actuator endpoint: the store's settings and nodes, drain and undrain.
 */
@NullMarked
package io.github.msm.endpoint;

import org.jspecify.annotations.NullMarked;
