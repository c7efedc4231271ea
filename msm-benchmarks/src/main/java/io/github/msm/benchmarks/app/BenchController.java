package io.github.msm.benchmarks.app;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import io.github.msm.autoconfigure.MsmProperties;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpSession;

import org.springframework.beans.BeanWrapperImpl;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.session.SessionRepository;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The bench API. {@code GET /api/session} reads every attribute (as a page showing the
 * user's state would), {@code POST /api/counter} changes one; both answer with the
 * session id, which {@code read-mostly.lua} uses to pair responses with connections.
 *
 * @author msm-spring-boot
 */
@RestController
@RequestMapping("/api")
class BenchController {

	static final String COUNTER = "counter";

	private final SessionRepository<?> repository;

	private final ObjectProvider<MsmProperties> msmProperties;

	BenchController(SessionRepository<?> repository, ObjectProvider<MsmProperties> msmProperties) {
		this.repository = repository;
		this.msmProperties = msmProperties;
	}

	/**
	 * A new session of {@code attributes} text attributes of {@code bytes} characters each
	 * (default 3 × 1000: about 3 KB) and a counter.
	 */
	@PostMapping("/sessions")
	Map<String, Object> create(HttpServletRequest request, @RequestParam(defaultValue = "3") int attributes,
			@RequestParam(defaultValue = "1000") int bytes) {
		HttpSession session = request.getSession();
		for (int i = 1; i <= Math.min(attributes, 20); i++) {
			session.setAttribute("bench" + i, text(i, Math.min(bytes, 100_000), session.getId()));
		}
		session.setAttribute(COUNTER, 0);
		return view(session);
	}

	@GetMapping("/session")
	Map<String, Object> read(HttpServletRequest request) {
		return view(request.getSession());
	}

	@PostMapping("/counter")
	Map<String, Object> increment(HttpServletRequest request) {
		HttpSession session = request.getSession();
		session.setAttribute(COUNTER, counter(session) + 1);
		return view(session);
	}

	/** Which store answers, and whether it runs sticky: the script skips a variant that did not take. */
	@GetMapping("/store")
	Map<String, Object> store() {
		Map<String, Object> store = new LinkedHashMap<>();
		store.put("repository", this.repository.getClass().getSimpleName());
		MsmProperties properties = this.msmProperties.getIfAvailable();
		if (properties != null) {
			BeanWrapperImpl wrapper = new BeanWrapperImpl(properties);
			store.put("sticky", wrapper.isReadableProperty("sticky") ? wrapper.getPropertyValue("sticky")
					: "unsupported");
		}
		return store;
	}

	private static Map<String, Object> view(HttpSession session) {
		int characters = 0;
		int attributes = 0;
		for (String name : Collections.list(session.getAttributeNames())) {
			if (session.getAttribute(name) instanceof String text) {
				characters += text.length();
				attributes++;
			}
		}
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("sessionId", session.getId());
		view.put("counter", counter(session));
		view.put("attributes", attributes);
		view.put("characters", characters);
		return view;
	}

	private static int counter(HttpSession session) {
		return (session.getAttribute(COUNTER) instanceof Number number) ? number.intValue() : 0;
	}

	private static String text(int attribute, int length, String seed) {
		StringBuilder text = new StringBuilder(length);
		long state = seed.hashCode() * 31L + attribute;
		while (text.length() < length) {
			state = state * 6364136223846793005L + 1442695040888963407L;
			text.append(Long.toString(state >>> 1, 36));
		}
		return text.substring(0, length);
	}

}
