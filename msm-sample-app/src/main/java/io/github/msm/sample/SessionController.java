package io.github.msm.sample;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpSession;
import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/**
 * The JSON API over the current session. The page, the tests and outside tools drive the
 * demo through it, so its shape ({@link SessionView}) is kept stable. It needs no login.
 *
 * @author msm-spring-boot
 */
@RestController
@RequestMapping("/api")
public class SessionController {

	/** The session attribute holding the counter, an {@link Integer}. */
	static final String COUNTER = "counter";

	private static final Pattern ATTRIBUTE_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

	private static final int MAX_VALUE_LENGTH = 4096;

	private final InstanceName instanceName;

	private final SessionNodes sessionNodes;

	public SessionController(InstanceName instanceName, SessionNodes sessionNodes) {
		this.instanceName = instanceName;
		this.sessionNodes = sessionNodes;
	}

	@GetMapping("/session")
	public SessionView session(HttpServletRequest request) {
		return view(request, request.getSession());
	}

	@DeleteMapping("/session")
	public ResponseEntity<Void> invalidate(HttpServletRequest request) {
		HttpSession session = request.getSession(false);
		if (session != null) {
			session.invalidate();
		}
		return ResponseEntity.noContent().build();
	}

	@PostMapping("/counter")
	public SessionView increment(HttpServletRequest request) {
		HttpSession session = request.getSession();
		session.setAttribute(COUNTER, counter(session) + 1);
		return view(request, session);
	}

	@PutMapping("/attributes/{name}")
	public SessionView setAttribute(HttpServletRequest request, @PathVariable String name,
			@RequestBody(required = false) @Nullable String value) {
		checkName(name);
		String text = (value != null) ? value : "";
		if (text.length() > MAX_VALUE_LENGTH) {
			throw new ResponseStatusException(HttpStatus.BAD_REQUEST,
					"Attribute values are limited to " + MAX_VALUE_LENGTH + " characters");
		}
		HttpSession session = request.getSession();
		session.setAttribute(name, text);
		return view(request, session);
	}

	@DeleteMapping("/attributes/{name}")
	public SessionView removeAttribute(HttpServletRequest request, @PathVariable String name) {
		checkName(name);
		HttpSession session = request.getSession();
		session.removeAttribute(name);
		return view(request, session);
	}

	private SessionView view(HttpServletRequest request, HttpSession session) {
		String id = session.getId();
		return new SessionView(id, this.sessionNodes.nodeOf(id), this.sessionNodes.down(), this.instanceName.get(),
				counter(session), attributes(session), request.getRemoteUser());
	}

	private static int counter(HttpSession session) {
		return (session.getAttribute(COUNTER) instanceof Number number) ? number.intValue() : 0;
	}

	/**
	 * The attributes a user can see and set: text and numbers. Framework state such as
	 * the security context is left out.
	 */
	private static Map<String, String> attributes(HttpSession session) {
		Map<String, String> attributes = new TreeMap<>();
		for (String name : Collections.list(session.getAttributeNames())) {
			Object value = session.getAttribute(name);
			if (!COUNTER.equals(name) && (value instanceof String || value instanceof Number)) {
				attributes.put(name, value.toString());
			}
		}
		return attributes;
	}

	private static void checkName(String name) {
		if (!ATTRIBUTE_NAME.matcher(name).matches()) {
			throw new ResponseStatusException(HttpStatus.BAD_REQUEST,
					"Attribute names are 1 to 64 characters of A-Z, a-z, 0-9, '_', '.' and '-'");
		}
		if (name.equals(COUNTER) || name.startsWith("SPRING_") || name.startsWith("org.springframework.")) {
			throw new ResponseStatusException(HttpStatus.BAD_REQUEST, "'" + name + "' is reserved");
		}
	}

}
