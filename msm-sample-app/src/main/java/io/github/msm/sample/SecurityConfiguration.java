package io.github.msm.sample;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpMethod;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.session.SessionRegistry;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.session.FindByIndexNameSessionRepository;
import org.springframework.session.Session;
import org.springframework.session.security.SpringSessionBackedSessionRegistry;

/**
 * Form login in front of the page; the JSON API and the actuator's read operations stay
 * open so that the demo can be driven with curl. Draining a node
 * ({@code POST /actuator/msm/{node}}) takes a user with the OPERATOR role, logged in, and
 * a CSRF token (from {@code GET /csrf}, sent as the {@code X-CSRF-TOKEN} header). The login changes the session id (Spring Security's
 * session fixation protection), which the store carries out in memcached. With
 * {@code msm.index-principal=true} a user may have at most {@value #MAX_SESSIONS_PER_USER}
 * sessions: a further login expires the oldest one (Spring Security's concurrent session
 * control over the store's principal index).
 *
 * @author msm-spring-boot
 */
@Configuration(proxyBeanMethods = false)
public class SecurityConfiguration {

	/** Sessions a user may have at once when the principal index is on. */
	public static final int MAX_SESSIONS_PER_USER = 2;

	@Bean
	public SecurityFilterChain securityFilterChain(HttpSecurity http,
			ObjectProvider<FindByIndexNameSessionRepository<? extends Session>> indexedSessions) throws Exception {
		FindByIndexNameSessionRepository<? extends Session> sessions = indexedSessions.getIfAvailable();
		if (sessions != null) {
			SessionRegistry registry = registry(sessions);
			http.sessionManagement((management) -> management.maximumSessions(MAX_SESSIONS_PER_USER)
				.sessionRegistry(registry));
		}
		http.authorizeHttpRequests((requests) -> requests
			// draining a node changes the whole fleet: only an operator, logged in, with a CSRF token
			.requestMatchers(HttpMethod.POST, "/actuator/msm/**")
			.hasRole("OPERATOR")
			.requestMatchers("/api/**", "/actuator/**", "/error", "/favicon.ico", "/app.css")
			.permitAll()
			.anyRequest()
			.authenticated())
			.formLogin((login) -> login.permitAll())
			.logout((logout) -> logout.permitAll())
			.csrf((csrf) -> csrf.ignoringRequestMatchers("/api/**"));
		return http.build();
	}

	private static <S extends Session> SessionRegistry registry(FindByIndexNameSessionRepository<S> sessions) {
		return new SpringSessionBackedSessionRegistry<>(sessions);
	}

	/**
	 * Demo users; the passwords are the user names and stored in plain text, which is only
	 * acceptable in a demo.
	 */
	@Bean
	public UserDetailsService userDetailsService() {
		return new InMemoryUserDetailsManager(
				User.withUsername("demo").password("{noop}demo").roles("USER").build(),
				User.withUsername("alice").password("{noop}alice").roles("USER").build(),
				User.withUsername("operator").password("{noop}operator").roles("USER", "OPERATOR").build());
	}

}
