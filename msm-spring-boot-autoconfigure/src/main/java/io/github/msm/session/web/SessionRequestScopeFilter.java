package io.github.msm.session.web;

import java.io.IOException;

import io.github.msm.session.RequestSessionMemo;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;

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

	@Override
	public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
			throws IOException, ServletException {
		RequestSessionMemo.open();
		try {
			chain.doFilter(request, response);
		}
		finally {
			RequestSessionMemo.close();
		}
	}

}
