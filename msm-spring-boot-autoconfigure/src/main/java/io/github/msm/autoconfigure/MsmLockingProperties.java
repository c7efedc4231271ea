package io.github.msm.autoconfigure;

import java.time.Duration;

import io.github.msm.session.lock.LockTimeoutAction;
import io.github.msm.session.lock.LockingMode;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration properties of session locking (both modes), under {@code msm.}
 * like the store's own; kept apart from {@link MsmProperties} because only the locking
 * filter reads them.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
@ConfigurationProperties("msm")
public class MsmLockingProperties {

	/**
	 * Which requests lock their session, so that concurrent requests of one session run
	 * one after the other: none, all, auto (all but routes seen to only read the session)
	 * or uri-pattern (paths matching msm.locking-uri-pattern). Non-sticky mode locks in
	 * memcached, across servers; sticky mode inside the server that holds the session.
	 */
	private LockingMode lockingMode = LockingMode.NONE;

	/**
	 * Regular expression of the paths that lock with msm.locking-mode=uri-pattern, matched
	 * against the whole path after the context path, without the query string (e.g.
	 * "/cart/.*").
	 */
	private @Nullable String lockingUriPattern;

	/**
	 * How long a lock lives in memcached unless its request extends it: how long the lock
	 * of a server that died mid-request blocks its session. Whole seconds; running
	 * requests extend their lock every third of it less 1 s. Sticky mode keeps no lock in memcached
	 * and uses it only as the Retry-After of a request refused on lock timeout.
	 */
	private Duration lockExpiration = Duration.ofSeconds(5);

	/**
	 * How long a request waits for its session's lock. Longer than msm.lock-expiration by
	 * default, so that a lock left by a dead server is taken over rather than failing.
	 */
	private Duration lockTimeout = Duration.ofSeconds(10);

	/**
	 * What a request does that waited msm.lock-timeout in vain: fail (503 with
	 * Retry-After, the session untouched) or proceed without the lock.
	 */
	private LockTimeoutAction lockTimeoutAction = LockTimeoutAction.FAIL;

	public LockingMode getLockingMode() {
		return this.lockingMode;
	}

	public void setLockingMode(LockingMode lockingMode) {
		this.lockingMode = lockingMode;
	}

	public @Nullable String getLockingUriPattern() {
		return this.lockingUriPattern;
	}

	public void setLockingUriPattern(@Nullable String lockingUriPattern) {
		this.lockingUriPattern = lockingUriPattern;
	}

	public Duration getLockExpiration() {
		return this.lockExpiration;
	}

	public void setLockExpiration(Duration lockExpiration) {
		this.lockExpiration = lockExpiration;
	}

	public Duration getLockTimeout() {
		return this.lockTimeout;
	}

	public void setLockTimeout(Duration lockTimeout) {
		this.lockTimeout = lockTimeout;
	}

	public LockTimeoutAction getLockTimeoutAction() {
		return this.lockTimeoutAction;
	}

	public void setLockTimeoutAction(LockTimeoutAction lockTimeoutAction) {
		this.lockTimeoutAction = lockTimeoutAction;
	}

}
