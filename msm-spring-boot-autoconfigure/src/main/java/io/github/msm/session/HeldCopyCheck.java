package io.github.msm.session;

/**
 * What a look at memcached says about a local copy ({@link StickyAccess#check(LocalCopy)}).
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public enum HeldCopyCheck {

	/** Memcached holds the version this copy was written as: the copy is current. */
	CURRENT,

	/** Memcached holds another version under the id: read it from there. */
	CHANGED,

	/** A tombstone: the session was taken over by another server, renamed or deleted. */
	MOVED,

	/** Nothing there (expired or evicted in memcached, or the node restarted). */
	ABSENT,

	/** Memcached did not answer. */
	UNKNOWN

}
