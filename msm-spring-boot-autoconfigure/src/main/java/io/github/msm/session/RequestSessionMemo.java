package io.github.msm.session;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

/**
 * What this request already knows about sessions: the ones it read, saved or deleted.
 *
 * <p>
 * Spring Session's filter saves twice per request and, before the second save, asks
 * the repository once more for the requested id (spring-session #2131). Within a request
 * scope opened by {@link io.github.msm.session.web.SessionRequestScopeFilter} that second
 * lookup is answered from here instead of from memcached, so a request costs one round
 * trip. Outside such a scope nothing is remembered; the scope never outlives its
 * request, so nothing here can go stale across requests.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class RequestSessionMemo {

	private static final ThreadLocal<Scope> current = new ThreadLocal<>();

	private RequestSessionMemo() {
	}

	/** Opens a scope for the current thread's request; scopes nest (forwards, error pages). */
	public static void open() {
		Scope scope = current.get();
		if (scope == null) {
			scope = new Scope();
			current.set(scope);
		}
		scope.depth++;
	}

	/**
	 * Closes the scope opened by the matching {@link #open()}.
	 * @return for the outermost scope, whether the request read, created or saved a
	 * session; {@code null} for a nested scope
	 */
	public static @Nullable Boolean close() {
		Scope scope = current.get();
		if (scope != null && --scope.depth <= 0) {
			current.remove();
			for (Optional<MemcachedSession> known : scope.sessions.values()) { // no stream: once per request
				if (known.isPresent()) {
					return true;
				}
			}
			return false;
		}
		return null;
	}

	static void remember(String id, @Nullable MemcachedSession session) {
		Scope scope = current.get();
		if (scope != null) {
			scope.sessions.put(id, Optional.ofNullable(session));
		}
	}

	/**
	 * What this request knows of the id.
	 * @return {@code null} when unknown, an empty optional when known to be absent
	 */
	static @Nullable Optional<MemcachedSession> lookup(String id) {
		Scope scope = current.get();
		return (scope != null) ? scope.sessions.get(id) : null;
	}

	/**
	 * The id a session this request knows is stored under, when it has changed its id
	 * since (a {@code changeSessionId} not saved yet).
	 * @param currentId the session's current id
	 * @return the stored id, or {@code null}
	 */
	static @Nullable String storedIdOf(String currentId) {
		Scope scope = current.get();
		if (scope == null) {
			return null;
		}
		for (Optional<MemcachedSession> known : scope.sessions.values()) {
			MemcachedSession session = known.orElse(null);
			if (session != null && session.getId().equals(currentId) && session.storedId() != null
					&& !currentId.equals(session.storedId())) {
				return session.storedId();
			}
		}
		return null;
	}

	private static final class Scope {

		int depth;

		final Map<String, Optional<MemcachedSession>> sessions = new HashMap<>(4);

	}

}
