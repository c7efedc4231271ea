package io.github.msm.session.web;

import java.io.IOException;

import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.RequestSessionMemo;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import org.jspecify.annotations.Nullable;

import org.springframework.session.web.http.SessionRepositoryFilter;

/**
 * Opens a {@link RequestSessionMemo} scope around Spring Session's filter, so that the
 * repository can answer the filter's repeated lookups of the same id from what the
 * request already read. Must run before (outside) the {@link SessionRepositoryFilter}.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class SessionRequestScopeFilter implements Filter {

	/** Just before {@link SessionRepositoryFilter#DEFAULT_ORDER}. */
	public static final int DEFAULT_ORDER = SessionRepositoryFilter.DEFAULT_ORDER - 1;

	private final @Nullable MemcachedSessionRepository repository;

	/** A filter that only scopes the memo. */
	public SessionRequestScopeFilter() {
		this(null);
	}

	/**
	 * A filter that also tells the repository, at the end of each request, whether the
	 * request had a session (the {@code msm.requests} meter).
	 * @param repository the repository, or {@code null}
	 */
	public SessionRequestScopeFilter(@Nullable MemcachedSessionRepository repository) {
		this.repository = repository;
	}

	@Override
	public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
			throws IOException, ServletException {
		RequestSessionMemo.open();
		try {
			chain.doFilter(request, response);
		}
		finally {
			Boolean hadSession = RequestSessionMemo.close();
			if (hadSession != null && this.repository != null) {
				this.repository.requestCompleted(hadSession);
			}
		}
	}

}
