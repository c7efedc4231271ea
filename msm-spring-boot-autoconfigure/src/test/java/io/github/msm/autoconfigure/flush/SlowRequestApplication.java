package io.github.msm.autoconfigure.flush;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import jakarta.servlet.http.HttpSession;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A web application with a long request: it sets an attribute, waits until the test
 * releases it, and sets the attribute again.
 */
@SpringBootApplication
public class SlowRequestApplication {

	/** Holds {@code POST /slow} between its two changes; replaced by each test. */
	static volatile CountDownLatch release = new CountDownLatch(1);

	@RestController
	static class StepController {

		@PostMapping("/slow")
		String slow(HttpSession session) throws InterruptedException {
			session.setAttribute("step", "started");
			boolean released = release.await(30, TimeUnit.SECONDS);
			session.setAttribute("step", "done");
			return released ? "done" : "not released";
		}

		@GetMapping("/step")
		String step(HttpSession session) {
			return String.valueOf(session.getAttribute("step"));
		}

	}

}
