package io.github.msm.benchmarks.app;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.github.msm.autoconfigure.MsmProperties;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpSession;

import org.springframework.beans.BeanWrapperImpl;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.session.Session;
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

	static final String ITEMS = "items";

	private final SessionRepository<?> repository;

	private final ObjectProvider<MsmProperties> msmProperties;

	BenchController(SessionRepository<?> repository, ObjectProvider<MsmProperties> msmProperties) {
		this.repository = repository;
		this.msmProperties = msmProperties;
	}

	/**
	 * A new session of {@code attributes} text attributes of {@code bytes} characters each
	 * (default 3 × 1000: about 3 KB) and a counter; with {@code items} &gt; 0 instead one
	 * unmodifiable {@code List<String>} of that many texts of {@code bytes} characters (32 ×
	 * 64: about 2 KB, the shape of a realistic session: what {@code List.copyOf} or
	 * {@code stream().toList()} hands an application) and a counter.
	 */
	@PostMapping("/sessions")
	Map<String, Object> create(HttpServletRequest request, @RequestParam(defaultValue = "3") int attributes,
			@RequestParam(defaultValue = "1000") int bytes, @RequestParam(defaultValue = "0") int items) {
		HttpSession session = request.getSession();
		attributes(attributes, bytes, items, session.getId()).forEach(session::setAttribute);
		return view(session);
	}

	/**
	 * {@code count} new sessions shaped as {@link #create} makes them, saved straight
	 * through the repository (no cookie, no request's session): the scale run's
	 * pre-created sessions. Answers one line per session, "cookie-value session-id", the
	 * cookie value Base64-encoded when {@code base64} (as Spring Session's default cookie
	 * serializer writes it; msm writes it plain).
	 */
	@PostMapping(path = "/sessions/bulk", produces = "text/plain")
	String createMany(@RequestParam int count, @RequestParam(defaultValue = "3") int attributes,
			@RequestParam(defaultValue = "1000") int bytes, @RequestParam(defaultValue = "0") int items,
			@RequestParam(defaultValue = "false") boolean base64) {
		@SuppressWarnings("unchecked")
		SessionRepository<Session> sessions = (SessionRepository<Session>) this.repository;
		StringBuilder lines = new StringBuilder();
		for (int n = 0; n < Math.min(count, 10_000); n++) {
			Session session = sessions.createSession();
			attributes(attributes, bytes, items, session.getId()).forEach(session::setAttribute);
			sessions.save(session);
			String id = session.getId();
			String cookie = base64 ? Base64.getEncoder().encodeToString(id.getBytes(StandardCharsets.UTF_8)) : id;
			lines.append(cookie).append(' ').append(id).append('\n');
		}
		return lines.toString();
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
			Object value = session.getAttribute(name);
			if (value instanceof String text) {
				characters += text.length();
				attributes++;
			}
			else if (value instanceof List<?> list) {
				for (Object item : list) {
					characters += (item instanceof String text) ? text.length() : 0;
				}
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

	/** A new session's attributes, in the order they are set; the counter last. */
	private static Map<String, Object> attributes(int attributes, int bytes, int items, String seed) {
		Map<String, Object> values = new LinkedHashMap<>();
		int length = Math.min(bytes, 100_000);
		if (items > 0) {
			List<String> list = new ArrayList<>();
			for (int i = 1; i <= Math.min(items, 1000); i++) {
				list.add(text(i, length, seed));
			}
			values.put(ITEMS, List.copyOf(list));
		}
		else {
			for (int i = 1; i <= Math.min(attributes, 20); i++) {
				values.put("bench" + i, text(i, length, seed));
			}
		}
		values.put(COUNTER, 0);
		return values;
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
