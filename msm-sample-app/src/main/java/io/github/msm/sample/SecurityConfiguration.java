package io.github.msm.sample;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;

/**
 * Form login in front of the page; the JSON API and the actuator stay open so that the
 * demo can be driven with curl. The login changes the session id (Spring Security's
 * session fixation protection), which the store carries out in memcached.
 *
 * @author msm-spring-boot
 */
@Configuration(proxyBeanMethods = false)
public class SecurityConfiguration {

	@Bean
	public SecurityFilterChain securityFilterChain(HttpSecurity http) throws Exception {
		http.authorizeHttpRequests((requests) -> requests
			.requestMatchers("/api/**", "/actuator/**", "/error", "/favicon.ico", "/app.css")
			.permitAll()
			.anyRequest()
			.authenticated())
			.formLogin((login) -> login.permitAll())
			.logout((logout) -> logout.permitAll())
			// the demo drains nodes with curl; a real application secures the actuator
			.csrf((csrf) -> csrf.ignoringRequestMatchers("/api/**", "/actuator/msm/**"));
		return http.build();
	}

	/**
	 * Demo users; the passwords are the user names and stored in plain text, which is only
	 * acceptable in a demo.
	 */
	@Bean
	public UserDetailsService userDetailsService() {
		return new InMemoryUserDetailsManager(
				User.withUsername("demo").password("{noop}demo").roles("USER").build(),
				User.withUsername("alice").password("{noop}alice").roles("USER").build());
	}

}
