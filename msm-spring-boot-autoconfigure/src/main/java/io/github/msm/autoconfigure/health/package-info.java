/**
 * Auto-configuration of the store's health indicator.
 */
@NullMarked
package io.github.msm.autoconfigure.health;

import org.jspecify.annotations.NullMarked;
