package io.github.msm.autoconfigure.events;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.servlet.http.HttpSession;
import jakarta.servlet.http.HttpSessionEvent;
import jakarta.servlet.http.HttpSessionListener;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * A web application with an {@link HttpSessionListener}, as Spring Security's
 * {@code HttpSessionEventPublisher} or an application's "session ended" hook is one.
 */
@SpringBootApplication
public class ListenerApplication {

	@Bean
	SessionLog sessionLog() {
		return new SessionLog();
	}

	/** Records what the servlet API tells listeners. */
	public static class SessionLog implements HttpSessionListener {

		final List<String> created = new CopyOnWriteArrayList<>();

		final List<String> destroyed = new CopyOnWriteArrayList<>();

		@Override
		public void sessionCreated(HttpSessionEvent event) {
			this.created.add(event.getSession().getId());
		}

		@Override
		public void sessionDestroyed(HttpSessionEvent event) {
			this.destroyed.add(event.getSession().getId());
		}

	}

	@RestController
	static class LoginController {

		@PostMapping("/login")
		String login(HttpSession session, @RequestParam(defaultValue = "1800") int maxInactiveSeconds) {
			session.setAttribute("user", "alice");
			session.setMaxInactiveInterval(maxInactiveSeconds);
			return session.getId();
		}

		@PostMapping("/logout")
		String logout(HttpSession session) {
			String id = session.getId();
			session.invalidate();
			return id;
		}

	}

}
