package io.github.msm.session;

import org.jspecify.annotations.Nullable;

/**
 * Hears what a {@link MemcachedSessionRepository} does with sessions, so that session
 * events can be published without the store knowing about them (see
 * {@code io.github.msm.session.event}). Called on the request's thread after the
 * repository's work; an implementation must be quick and must not throw.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public interface SessionLifecycleListener {

	/** Hears nothing. */
	SessionLifecycleListener NONE = new SessionLifecycleListener() {
	};

	/**
	 * A session was read or saved by this server: it now knows it and when it expires.
	 * @param session the session as the request has it
	 * @param created whether this save stored the session for the first time
	 */
	default void served(MemcachedSession session, boolean created) {
	}

	/**
	 * A session was deleted (invalidated) through this server.
	 * @param id the id it was deleted by
	 * @param session the session as this request knew it, {@code null} when it did not
	 * read it
	 */
	default void deleted(String id, @Nullable MemcachedSession session) {
	}

}
