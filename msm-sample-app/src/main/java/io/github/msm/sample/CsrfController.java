package io.github.msm.sample;

import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Hands the page its CSRF token, so that the static page can post the logout form. The
 * token lives in the session, that is in memcached, and survives a failover with it.
 *
 * @author msm-spring-boot
 */
@RestController
public class CsrfController {

	@GetMapping("/csrf")
	public CsrfToken csrf(CsrfToken token) {
		return token;
	}

}
