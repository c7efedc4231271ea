package io.github.msm.session;

/**
 * The session moved to another node (its node went down) after the saving request read
 * it: the change belongs to the session under its new id.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class SessionMovedException extends RuntimeException {

	final String newId;

	SessionMovedException(String newId) {
		super("moved to " + newId, null, false, false);
		this.newId = newId;
	}

}
