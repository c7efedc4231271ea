package io.github.msm.session.lock;

/**
 * What a request does when it could not get its session's lock in time.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public enum LockTimeoutAction {

	/**
	 * Answer {@code 503 Service Unavailable} with {@code Retry-After} and run nothing: the
	 * session is neither read nor written.
	 */
	FAIL,

	/**
	 * Run the request without the lock (memcached-session-manager's behaviour), logged at
	 * WARN and counted: its changes may overwrite or be overwritten by the holder's.
	 */
	PROCEED

}
