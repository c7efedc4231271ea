package io.github.msm.session;

import io.github.msm.session.node.MemcachedNode;

/**
 * A session's node went down during a save: the repository moves the session to another
 * node instead of reporting the change as lost.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class PrimaryDownException extends RuntimeException {

	PrimaryDownException(MemcachedNode node) {
		super("node " + node.id() + " is down", null, false, false);
	}

}
