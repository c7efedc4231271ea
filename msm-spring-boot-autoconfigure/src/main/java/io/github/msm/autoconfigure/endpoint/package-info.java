/**
 * Auto-configuration of the {@code msm} actuator endpoint.
 */
@NullMarked
package io.github.msm.autoconfigure.endpoint;

import org.jspecify.annotations.NullMarked;
