package io.github.msm.autoconfigure.locking;

import java.util.concurrent.Callable;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpSession;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * A web application with a read-modify-write counter whose requests can be made slow
 * ({@code sleepMs}), to hold a session's lock for a while.
 */
@SpringBootApplication
public class LockingApplication {

	/** A registry of its own, so that tests read the lock meters of each instance. */
	@Bean
	MeterRegistry meterRegistry() {
		return new SimpleMeterRegistry();
	}

	@RestController
	static class CounterController {

		@PostMapping("/counter")
		String increment(HttpSession session, @RequestParam(defaultValue = "0") long sleepMs)
				throws InterruptedException {
			Integer counter = (Integer) session.getAttribute("counter");
			Thread.sleep(sleepMs);
			int next = (counter != null) ? counter + 1 : 1;
			session.setAttribute("counter", next);
			return session.getId() + " " + next;
		}

		/** The same, completed on another thread (Spring MVC's async request processing). */
		@PostMapping("/async/counter")
		Callable<String> incrementAsync(HttpSession session, @RequestParam(defaultValue = "0") long sleepMs) {
			return () -> increment(session, sleepMs);
		}

		@GetMapping("/counter")
		String read(HttpSession session, @RequestParam(defaultValue = "0") long sleepMs) throws InterruptedException {
			Thread.sleep(sleepMs);
			return session.getId() + " " + session.getAttribute("counter");
		}

		@GetMapping("/report")
		String report(HttpSession session, @RequestParam(defaultValue = "0") long sleepMs)
				throws InterruptedException {
			return read(session, sleepMs);
		}

		@GetMapping("/hello")
		String hello() {
			return "hello";
		}

		/** A login: a new id (session fixation protection), then the user is set, slowly if asked. */
		@PostMapping("/login")
		String login(HttpServletRequest request, @RequestParam(defaultValue = "0") long sleepMs)
				throws InterruptedException {
			String id = request.changeSessionId();
			Thread.sleep(sleepMs);
			request.getSession().setAttribute("user", "alice");
			return id + " " + request.getSession().getAttribute("counter");
		}

		@DeleteMapping("/session")
		String invalidate(HttpServletRequest request, @RequestParam(defaultValue = "0") long sleepMs)
				throws InterruptedException {
			request.getSession().invalidate();
			Thread.sleep(sleepMs);
			return "invalidated";
		}

	}

}
