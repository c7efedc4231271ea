package io.github.msm.autoconfigure;

import java.util.ArrayList;
import java.util.List;

import io.github.msm.session.IndexedMemcachedSessionRepository;
import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.SessionSavePolicy;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.serializer.ClassAllowList;
import io.github.msm.session.serializer.JdkSessionSerializer;
import io.github.msm.session.serializer.KryoSessionSerializer;
import io.github.msm.session.serializer.SessionSerializer;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.session.web.SessionRequestScopeFilter;
import jakarta.servlet.DispatcherType;
import net.spy.memcached.MemcachedClient;

import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurationPackages;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.session.autoconfigure.DefaultCookieSerializerCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.session.autoconfigure.SessionAutoConfiguration;
import org.springframework.boot.session.autoconfigure.SessionTimeout;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.session.Session;
import org.springframework.session.SessionRepository;
import org.springframework.session.config.SessionRepositoryCustomizer;
import org.springframework.session.config.annotation.web.http.SpringHttpSessionConfiguration;

/**
 * Auto-configuration that keeps servlet sessions in memcached through Spring Session.
 *
 * <p>
 * It runs before Boot's own session auto-configurations, so that Boot registers the
 * session filter with {@code spring.session.servlet.*} and the Redis or JDBC stores back
 * off, and it backs off itself when the application defines a {@link SessionRepository}.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
@AutoConfiguration(before = SessionAutoConfiguration.class,
		beforeName = { "org.springframework.boot.session.data.redis.autoconfigure.SessionDataRedisAutoConfiguration",
				"org.springframework.boot.session.jdbc.autoconfigure.JdbcSessionAutoConfiguration" })
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass({ Session.class, MemcachedClient.class, SessionTimeout.class })
@ConditionalOnMissingBean(SessionRepository.class)
@ConditionalOnBooleanProperty(name = "msm.enabled", matchIfMissing = true)
@EnableConfigurationProperties(MsmProperties.class)
@Import(SpringHttpSessionConfiguration.class)
public final class MsmAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	NodeRing msmNodeRing(MsmProperties properties) {
		return MsmPropertyChecks.withFailoverNodes(MsmPropertyChecks.nodeRing(properties.getNodes()),
				properties.getFailoverNodes());
	}

	@Bean
	@ConditionalOnMissingBean
	MemcachedStore msmMemcachedStore(MsmProperties properties, NodeRing ring) {
		return new MemcachedStore(ring.nodes(), MsmPropertyChecks.connectionSettings(properties));
	}

	@Bean
	@ConditionalOnMissingBean
	SessionSerializer msmSessionSerializer(MsmProperties properties, BeanFactory beanFactory) {
		List<String> packages = new ArrayList<>(ClassAllowList.DEFAULT_PACKAGES);
		if (AutoConfigurationPackages.has(beanFactory)) {
			packages.addAll(AutoConfigurationPackages.get(beanFactory));
		}
		packages.addAll(MsmPropertyChecks.allowedPackages(properties.getSerialization().getAllowedPackages()));
		ClassAllowList allowList = ClassAllowList.of(packages);
		ClassLoader classLoader = MsmAutoConfiguration.class.getClassLoader();
		if (beanFactory instanceof org.springframework.beans.factory.config.ConfigurableBeanFactory configurable
				&& configurable.getBeanClassLoader() != null) {
			classLoader = configurable.getBeanClassLoader();
		}
		return switch (properties.getSerializer()) {
			case KRYO -> new KryoSessionSerializer(allowList, classLoader);
			case JDK -> new JdkSessionSerializer(allowList, classLoader);
		};
	}

	@Bean(destroyMethod = "")
	@ConditionalOnBooleanProperty(name = "msm.index-principal", havingValue = false, matchIfMissing = true)
	MemcachedSessionRepository sessionRepository(MsmProperties properties, MemcachedStore store, NodeRing ring,
			SessionSerializer serializer, SessionTimeout sessionTimeout,
			ObjectProvider<SessionRepositoryCustomizer<MemcachedSessionRepository>> customizers) {
		return configure(new MemcachedSessionRepository(store, ring, serializer), properties, sessionTimeout,
				customizers);
	}

	/**
	 * The repository with the principal index, declared with its own type: Boot's sessions
	 * endpoint and Spring Security's session registry look for a
	 * {@code FindByIndexNameSessionRepository} bean by its declared type.
	 */
	@Bean(name = "sessionRepository", destroyMethod = "")
	@ConditionalOnBooleanProperty("msm.index-principal")
	IndexedMemcachedSessionRepository indexedSessionRepository(MsmProperties properties, MemcachedStore store,
			NodeRing ring, SessionSerializer serializer, SessionTimeout sessionTimeout,
			ObjectProvider<SessionRepositoryCustomizer<MemcachedSessionRepository>> customizers) {
		return configure(new IndexedMemcachedSessionRepository(store, ring, serializer), properties, sessionTimeout,
				customizers);
	}

	private static <R extends MemcachedSessionRepository> R configure(R repository, MsmProperties properties,
			SessionTimeout sessionTimeout,
			ObjectProvider<SessionRepositoryCustomizer<MemcachedSessionRepository>> customizers) {
		java.time.Duration timeout = sessionTimeout.getTimeout();
		if (timeout != null) {
			repository.setDefaultMaxInactiveInterval(timeout);
		}
		MsmPropertyChecks.apply("msm.key-prefix", properties.getKeyPrefix(), repository::setKeyPrefix);
		if (properties.getJvmRoute() != null) {
			MsmPropertyChecks.apply("msm.jvm-route", properties.getJvmRoute(), repository::setJvmRoute);
		}
		repository.setBackupAsync(properties.isBackupAsync());
		MsmPropertyChecks.apply("msm.backup-max-lag", properties.getBackupMaxLag(), repository::setBackupMaxLag);
		repository.setMaxItemSize(MsmPropertyChecks.maxItemSize(properties.getMaxItemSize()));
		MsmPropertyChecks.apply("msm.access-write-fraction", properties.getAccessWriteFraction(),
				repository::setAccessWriteFraction);
		repository.setSavePolicy(new SessionSavePolicy(properties.getFlushMode(), properties.getSaveMode(),
				MsmPropertyChecks.attributeFilter(properties.getAttributeFilter())));
		customizers.orderedStream().forEach((customizer) -> customizer.customize(repository));
		return repository;
	}

	/**
	 * Lets the repository answer Spring Session's second lookup of the requested id from
	 * what the request already read, so a request costs one memcached round trip.
	 */
	@Bean
	FilterRegistrationBean<SessionRequestScopeFilter> msmSessionRequestScopeFilter(
			MemcachedSessionRepository sessionRepository) {
		FilterRegistrationBean<SessionRequestScopeFilter> registration = new FilterRegistrationBean<>(
				new SessionRequestScopeFilter(sessionRepository));
		registration.setOrder(SessionRequestScopeFilter.DEFAULT_ORDER);
		registration.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR);
		return registration;
	}

	/**
	 * Writes the session id into the cookie as it is, not Base64-encoded, so that a load
	 * balancer and an operator can read the node it names.
	 */
	@Bean
	DefaultCookieSerializerCustomizer msmPlainSessionCookie() {
		return (cookieSerializer) -> cookieSerializer.setUseBase64Encoding(false);
	}


}
