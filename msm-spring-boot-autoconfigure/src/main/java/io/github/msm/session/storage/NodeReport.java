package io.github.msm.session.storage;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import io.github.msm.session.node.MemcachedNode;
import org.jspecify.annotations.Nullable;

/**
 * What one node looks like to this server right now, for health checks and operators.
 *
 * @param node the node
 * @param up whether requests use it (its availability)
 * @param drained whether it is drained: no new sessions, sessions on it move off at their
 * next access
 * @param answered whether it answered {@code stats} just now (never asked when down)
 * @param latency how long the answer took; {@code null} when it did not answer
 * @param lastError why it last failed, if it ever did; or why it did not answer now
 * @param since when it last went up or down; {@code null}: up since the start
 * @param stats memcached's general {@code stats} (e.g. {@code curr_items}, {@code bytes},
 * {@code evictions}); empty when it did not answer
 * @author msm-spring-boot
 * @since 0.1.0
 */
public record NodeReport(MemcachedNode node, boolean up, boolean drained, boolean answered,
		@Nullable Duration latency, @Nullable String lastError, @Nullable Instant since, Map<String, String> stats) {

	/** Whether the node is usable: up and answering. */
	public boolean healthy() {
		return this.up && this.answered;
	}

}
