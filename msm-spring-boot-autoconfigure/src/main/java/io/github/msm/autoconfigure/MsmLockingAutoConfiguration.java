package io.github.msm.autoconfigure;

import java.util.regex.Pattern;

import io.github.msm.session.lock.LockingMode;
import io.github.msm.session.lock.LockingRoutes;
import io.github.msm.session.lock.SessionLockFilter;
import io.github.msm.session.lock.SessionLockMetrics;
import io.github.msm.session.lock.SessionLocks;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.storage.MemcachedStore;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.DispatcherType;
import net.spy.memcached.MemcachedClient;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.session.autoconfigure.SessionAutoConfiguration;
import org.springframework.boot.session.autoconfigure.SessionTimeout;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.session.Session;
import org.springframework.session.web.http.CookieHttpSessionIdResolver;
import org.springframework.session.web.http.CookieSerializer;
import org.springframework.session.web.http.HttpSessionIdResolver;

/**
 * Auto-configuration of session locking: with {@code msm.locking-mode} other than
 * {@code none}, a filter before Spring Session's holds each request's session lock for
 * the whole request; in memcached in non-sticky mode, inside this server in sticky mode
 * ({@code msm.sticky=true}), where the server that holds a session is its only writer.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
@AutoConfiguration(after = { MsmAutoConfiguration.class, SessionAutoConfiguration.class })
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass({ Session.class, MemcachedClient.class, SessionTimeout.class })
@ConditionalOnBean(MemcachedStore.class)
@EnableConfigurationProperties(MsmLockingProperties.class)
public final class MsmLockingAutoConfiguration {

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnExpression("!'${msm.locking-mode:none}'.trim().equalsIgnoreCase('none')")
	static class LockingConfiguration {

		@Bean
		SessionLockMetrics msmSessionLockMetrics(ObjectProvider<MeterRegistry> meterRegistry) {
			MeterRegistry registry = meterRegistry.getIfAvailable();
			return (registry != null) ? new SessionLockMetrics(registry) : SessionLockMetrics.none();
		}

		@Bean(destroyMethod = "close")
		SessionLocks msmSessionLocks(MsmProperties properties, MsmLockingProperties locking, MemcachedStore store,
				NodeRing ring, SessionLockMetrics metrics) {
			MsmPropertyChecks.apply("msm.lock-expiration", locking.getLockExpiration(), SessionLocks::checkExpiration);
			MsmPropertyChecks.apply("msm.lock-timeout", locking.getLockTimeout(), SessionLocks::checkTimeout);
			if (properties.isSticky()) {
				return SessionLocks.localOnly(ring, locking.getLockExpiration(), locking.getLockTimeout(), metrics);
			}
			return new SessionLocks(store, ring, properties.getKeyPrefix(), locking.getLockExpiration(),
					locking.getLockTimeout(), metrics);
		}

		/**
		 * Ordered before Spring Session's filter, for requests and their async
		 * dispatches: the lock is released after the session was committed.
		 */
		@Bean
		FilterRegistrationBean<SessionLockFilter> msmSessionLockFilter(MsmLockingProperties locking,
				SessionLocks locks, SessionLockMetrics metrics, ObjectProvider<HttpSessionIdResolver> idResolver,
				ObjectProvider<CookieSerializer> cookieSerializer) {
			LockingRoutes routes = new LockingRoutes(locking.getLockingMode(), uriPattern(locking));
			HttpSessionIdResolver resolver = idResolver.getIfAvailable(() -> {
				CookieHttpSessionIdResolver cookies = new CookieHttpSessionIdResolver();
				cookieSerializer.ifAvailable(cookies::setCookieSerializer);
				return cookies;
			});
			FilterRegistrationBean<SessionLockFilter> registration = new FilterRegistrationBean<>(
					new SessionLockFilter(locks, routes, resolver, locking.getLockTimeoutAction(), metrics));
			registration.setOrder(SessionLockFilter.DEFAULT_ORDER);
			registration.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ASYNC);
			return registration;
		}

		private static @Nullable Pattern uriPattern(MsmLockingProperties locking) {
			String pattern = locking.getLockingUriPattern();
			if (locking.getLockingMode() != LockingMode.URI_PATTERN) {
				return null;
			}
			if (pattern == null || pattern.isBlank()) {
				throw new InvalidConfigurationPropertyValueException("msm.locking-uri-pattern", pattern,
						"msm.locking-uri-pattern: a regular expression is required with msm.locking-mode=uri-pattern");
			}
			MsmPropertyChecks.apply("msm.locking-uri-pattern", pattern, Pattern::compile);
			return Pattern.compile(pattern);
		}

	}

}
