/**
 * Auto-configuration of fleet-wide drains.
 */
@NullMarked
package io.github.msm.autoconfigure.drain;

import org.jspecify.annotations.NullMarked;
