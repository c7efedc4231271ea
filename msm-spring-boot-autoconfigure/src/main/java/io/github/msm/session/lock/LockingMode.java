package io.github.msm.session.lock;

/**
 * Which requests lock their session, so that concurrent requests of one session run one
 * after the other instead of overwriting each other's read-modify-write of the same
 * attribute.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public enum LockingMode {

	/**
	 * No request locks. Concurrent changes of different attributes are merged; concurrent
	 * read-modify-writes of the same attribute can lose updates.
	 */
	NONE,

	/** Every request that carries a valid session id locks its session. */
	ALL,

	/**
	 * Requests lock unless their route (method and normalised path) has been seen to
	 * leave its session unchanged; a route that changed a session once always locks.
	 */
	AUTO,

	/**
	 * Requests whose path (after the context path, without query string) matches the
	 * configured regular expression lock; others do not.
	 */
	URI_PATTERN

}
