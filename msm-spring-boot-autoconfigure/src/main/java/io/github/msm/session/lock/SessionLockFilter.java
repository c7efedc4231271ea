package io.github.msm.session.lock;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.github.msm.session.log.SessionIdTag;
import io.github.msm.session.SessionWriteSignal;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.session.web.http.HttpSessionIdResolver;
import org.springframework.session.web.http.SessionRepositoryFilter;
import org.springframework.util.Assert;

/**
 * Holds a request's session lock for the whole request: taken before Spring Session's
 * {@link SessionRepositoryFilter} reads the session, released after it committed the
 * session, in {@code finally}, so also when the handler throws. An async request keeps
 * its lock until the container completes it.
 *
 * <p>
 * The session id is read the way Spring Session reads it, with the same
 * {@link HttpSessionIdResolver}; only an id of this store's format locks (see
 * {@link SessionLocks#isLockable}), so a hostile cookie never reaches memcached. A
 * request without a session id never locks: it can only create a new session, which
 * nobody else knows yet.
 *
 * <p>
 * Invalidation needs no extra step: the request that invalidates its session holds the
 * session's lock and removes it at release, after the session's keys are gone. A login
 * ({@code changeSessionId}) gives the session a new base, hence a new lock: the renaming
 * request keeps the old base's lock until it ends; requests still carrying the old id
 * then find the old id's tombstone, which does not lead to the new id, and the new id
 * reaches the client only with the response, after the session was committed under it.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class SessionLockFilter implements Filter {

	/** Just before {@code SessionRequestScopeFilter}, which runs just before Spring Session's filter. */
	public static final int DEFAULT_ORDER = SessionRepositoryFilter.DEFAULT_ORDER - 2;

	private static final String CLAIM = SessionLockFilter.class.getName() + ".CLAIM";

	private static final Log logger = LogFactory.getLog(SessionLockFilter.class);

	private final SessionLocks locks;

	private final LockingRoutes routes;

	private final HttpSessionIdResolver idResolver;

	private final LockTimeoutAction timeoutAction;

	private final SessionLockMetrics metrics;

	/**
	 * @param locks the locks
	 * @param routes which requests lock
	 * @param idResolver how Spring Session finds the session id of a request
	 * @param timeoutAction what a request that waited in vain does
	 * @param metrics where outcomes are counted
	 */
	public SessionLockFilter(SessionLocks locks, LockingRoutes routes, HttpSessionIdResolver idResolver,
			LockTimeoutAction timeoutAction, SessionLockMetrics metrics) {
		Assert.notNull(locks, "locks must not be null");
		Assert.notNull(routes, "routes must not be null");
		Assert.notNull(idResolver, "idResolver must not be null");
		Assert.notNull(timeoutAction, "timeoutAction must not be null");
		Assert.notNull(metrics, "metrics must not be null");
		this.locks = locks;
		this.routes = routes;
		this.idResolver = idResolver;
		this.timeoutAction = timeoutAction;
		this.metrics = metrics;
	}

	@Override
	public void doFilter(ServletRequest servletRequest, ServletResponse servletResponse, FilterChain chain)
			throws IOException, ServletException {
		if (!(servletRequest instanceof HttpServletRequest request)
				|| !(servletResponse instanceof HttpServletResponse response)) {
			chain.doFilter(servletRequest, servletResponse);
			return;
		}
		if (request.getAttribute(CLAIM) instanceof Claim claim) {
			// an async or error dispatch of a request this filter already saw
			run(claim, request, response, chain);
			return;
		}
		String id = (request.getDispatcherType() == DispatcherType.REQUEST) ? sessionId(request) : null;
		if (id == null) {
			chain.doFilter(request, response);
			return;
		}
		String method = request.getMethod();
		String path = path(request);
		SessionLock lock = null;
		if (this.routes.shouldLock(method, path)) {
			lock = this.locks.acquire(id);
			if (lock != null && !admitted(lock, response)) {
				return;
			}
		}
		else {
			this.metrics.skippedReadOnly();
			if (!this.routes.isLearning()) {
				chain.doFilter(request, response);
				return;
			}
		}
		Claim claim = new Claim(lock, method, path);
		request.setAttribute(CLAIM, claim);
		run(claim, request, response, chain);
	}

	/** Counts the outcome; answers 503 and releases at once when the request may not run. */
	private boolean admitted(SessionLock lock, HttpServletResponse response) {
		switch (lock.outcome()) {
			case ACQUIRED -> this.metrics.acquired();
			case UNAVAILABLE -> this.metrics.skippedUnavailable();
			case TIMED_OUT -> {
				long waited = TimeUnit.NANOSECONDS.toMillis(lock.waitedNanos());
				if (this.timeoutAction == LockTimeoutAction.FAIL) {
					this.locks.release(lock);
					this.metrics.timeoutFailed();
					if (logger.isDebugEnabled()) {
						logger.debug("Session " + SessionIdTag.of(lock.sessionId()) + " stayed locked for " + waited + " ms: 503");
					}
					response.setStatus(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
					response.setHeader("Retry-After", String.valueOf(this.locks.expiration().toSeconds()));
					return false;
				}
				this.metrics.timeoutProceeded();
				logger.warn("Session " + SessionIdTag.of(lock.sessionId()) + " stayed locked by another request for " + waited
						+ " ms; running this request without the lock (msm.lock-timeout-action=proceed)");
			}
		}
		return true;
	}

	private void run(Claim claim, HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws IOException, ServletException {
		SessionWriteSignal previous = claim.signal.bind();
		int asyncStarts = claim.asyncStarts;
		boolean completed = false;
		try {
			chain.doFilter(new AsyncWatchingRequest(request, claim), response);
			completed = true;
		}
		finally {
			SessionWriteSignal.unbind(previous);
			if (claim.asyncStarts != asyncStarts || request.isAsyncStarted()) {
				// released when the container completes the request
				claim.failed |= !completed;
			}
			else {
				claim.finish(completed);
			}
		}
	}

	/** The first id the resolver finds that is a valid id of this store. */
	private @Nullable String sessionId(HttpServletRequest request) {
		List<String> ids = this.idResolver.resolveSessionIds(request);
		for (String id : ids) {
			if (this.locks.isLockable(id)) {
				return id;
			}
		}
		return null;
	}

	/** The path after the context path, without path parameters ({@code ;jsessionid=}). */
	static String path(HttpServletRequest request) {
		String uri = request.getRequestURI();
		int semicolon = uri.indexOf(';');
		if (semicolon >= 0) {
			uri = uri.substring(0, semicolon);
		}
		String context = request.getContextPath();
		return (!context.isEmpty() && uri.startsWith(context)) ? uri.substring(context.length()) : uri;
	}

	/** Tells the claim when the application starts async processing. */
	private static final class AsyncWatchingRequest extends HttpServletRequestWrapper {

		private final Claim claim;

		AsyncWatchingRequest(HttpServletRequest request, Claim claim) {
			super(request);
			this.claim = claim;
		}

		@Override
		public AsyncContext startAsync() {
			AsyncContext context = super.startAsync();
			this.claim.asyncStarted(context);
			return context;
		}

		@Override
		public AsyncContext startAsync(ServletRequest request, ServletResponse response) {
			AsyncContext context = super.startAsync(request, response);
			this.claim.asyncStarted(context);
			return context;
		}

	}

	/** What this filter holds for one request, across its dispatches. */
	private final class Claim implements AsyncListener {

		final SessionWriteSignal signal = new SessionWriteSignal();

		private final @Nullable SessionLock lock;

		private final String method;

		private final String path;

		private final AtomicBoolean finished = new AtomicBoolean();

		volatile boolean failed;

		volatile int asyncStarts;

		Claim(@Nullable SessionLock lock, String method, String path) {
			this.lock = lock;
			this.method = method;
			this.path = path;
		}

		/**
		 * Async processing started: listen for the completion right away, since the
		 * async work may finish and dispatch before this dispatch's filters unwind.
		 */
		void asyncStarted(AsyncContext context) {
			this.asyncStarts++;
			context.addListener(this);
		}

		/** Releases the lock and learns from the request; only the first call counts. */
		void finish(boolean completed) {
			this.failed |= !completed;
			if (!this.finished.compareAndSet(false, true)) {
				return;
			}
			try {
				if (!this.failed) {
					SessionLockFilter.this.routes.learn(this.method, this.path, this.signal.isRaised());
				}
			}
			finally {
				if (this.lock != null) {
					SessionLockFilter.this.locks.release(this.lock);
				}
			}
		}

		@Override
		public void onComplete(AsyncEvent event) {
			finish(true);
		}

		@Override
		public void onTimeout(AsyncEvent event) {
			this.failed = true;
		}

		@Override
		public void onError(AsyncEvent event) {
			this.failed = true;
		}

		@Override
		public void onStartAsync(AsyncEvent event) {
			// the wrapper registers this listener again for the new cycle
		}

	}

}
