package io.github.msm.session.lock;

import java.util.regex.Pattern;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * Decides from a request's method and path whether it locks its session, following the
 * {@link LockingMode}; in {@code AUTO} mode it also learns which routes only read their
 * session.
 *
 * <p>
 * {@code AUTO} keys routes by method and normalised path: path segments that look like
 * ids (numbers, UUIDs, long hex strings) become {@code {id}}, so {@code /orders/17} and
 * {@code /orders/18} are one route. A route is unknown until a request of it completed,
 * and unknown routes lock. A request that ends without changing its session marks the
 * route read-only; a request that changes it marks it modifying for good (a later
 * read-only request does not undo that). At most {@value #MAX_ROUTES} routes are
 * remembered; a forgotten route is unknown again and locks, so the bound costs
 * parallelism, never safety.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class LockingRoutes {

	static final int MAX_ROUTES = 10_000;

	private static final Pattern ID_SEGMENT = Pattern
		.compile("\\d+|[0-9a-fA-F]{16,}(-[A-Za-z0-9_]{1,32})?|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

	private final LockingMode mode;

	private final @Nullable Pattern uriPattern;

	private final Cache<String, Boolean> modifying = Caffeine.newBuilder().maximumSize(MAX_ROUTES).build();

	/**
	 * @param mode the locking mode
	 * @param uriPattern the paths that lock in {@code URI_PATTERN} mode, matched against
	 * the whole path after the context path, without the query string
	 */
	public LockingRoutes(LockingMode mode, @Nullable Pattern uriPattern) {
		Assert.notNull(mode, "mode must not be null");
		Assert.isTrue(mode != LockingMode.URI_PATTERN || uriPattern != null,
				"a uri pattern is required in URI_PATTERN mode");
		this.mode = mode;
		this.uriPattern = uriPattern;
	}

	public LockingMode mode() {
		return this.mode;
	}

	/**
	 * Whether a request locks its session.
	 * @param method the HTTP method
	 * @param path the path after the context path, without the query string
	 */
	public boolean shouldLock(String method, String path) {
		return switch (this.mode) {
			case NONE -> false;
			case ALL -> true;
			case URI_PATTERN -> this.uriPattern != null && this.uriPattern.matcher(path).matches();
			case AUTO -> !Boolean.FALSE.equals(this.modifying.getIfPresent(route(method, path)));
		};
	}

	/** Whether {@link #learn} has anything to do: only in {@code AUTO} mode. */
	public boolean isLearning() {
		return this.mode == LockingMode.AUTO;
	}

	/**
	 * Records how a completed request of a route treated its session.
	 * @param method the HTTP method
	 * @param path the path after the context path
	 * @param changedSession whether the request changed its session
	 */
	public void learn(String method, String path, boolean changedSession) {
		if (!isLearning()) {
			return;
		}
		String route = route(method, path);
		if (changedSession) {
			this.modifying.put(route, Boolean.TRUE);
		}
		else {
			this.modifying.asMap().putIfAbsent(route, Boolean.FALSE);
		}
	}

	/** The route of a request: method and path with id-like segments replaced. */
	static String route(String method, String path) {
		StringBuilder route = new StringBuilder(method.length() + path.length() + 1).append(method).append(' ');
		int start = 0;
		while (start <= path.length()) {
			int slash = path.indexOf('/', start);
			int end = (slash < 0) ? path.length() : slash;
			String segment = path.substring(start, end);
			route.append(ID_SEGMENT.matcher(segment).matches() ? "{id}" : segment);
			if (slash < 0) {
				break;
			}
			route.append('/');
			start = slash + 1;
		}
		return route.toString();
	}

}
