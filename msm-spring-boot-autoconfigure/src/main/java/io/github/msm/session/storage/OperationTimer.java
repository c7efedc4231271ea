package io.github.msm.session.storage;

import io.github.msm.session.node.MemcachedNode;

/**
 * Told how long each memcached operation took, so that operation time can be measured
 * per operation and node without the store knowing about any metrics library.
 *
 * <p>
 * Called on the thread that waited for the answer (a request thread) or, for unawaited
 * writes, on one of the store's listener threads; must be cheap and must not block.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
@FunctionalInterface
public interface OperationTimer {

	/** Measures nothing. */
	OperationTimer NONE = (operation, node, nanos, succeeded) -> {
	};

	/**
	 * An operation finished.
	 * @param operation {@code get} (a pipelined read counts once), {@code set}, {@code add},
	 * {@code cas}, {@code touch} or {@code delete}
	 * @param node the node it went to
	 * @param nanos how long it took, from the call to the answer
	 * @param succeeded whether the node answered (a "not found" or a CAS conflict is an
	 * answer); {@code false} for a failure or timeout
	 */
	void record(String operation, MemcachedNode node, long nanos, boolean succeeded);

}
