/**
 * Session events ({@code SessionCreatedEvent}, {@code SessionDeletedEvent},
 * {@code SessionExpiredEvent}) for both modes, and the watch that publishes each expiry
 * once across the fleet.
 */
@NullMarked
package io.github.msm.session.event;

import org.jspecify.annotations.NullMarked;
