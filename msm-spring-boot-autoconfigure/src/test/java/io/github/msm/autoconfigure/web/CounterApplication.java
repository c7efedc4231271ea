package io.github.msm.autoconfigure.web;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpSession;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A minimal web application whose sessions the starter puts into memcached.
 */
@SpringBootApplication
public class CounterApplication {

	@RestController
	static class CounterController {

		@PostMapping("/counter")
		String increment(HttpSession session) {
			Integer counter = (Integer) session.getAttribute("counter");
			int next = (counter != null) ? counter + 1 : 1;
			session.setAttribute("counter", next);
			return session.getId() + " " + next;
		}

		@GetMapping("/counter")
		String read(HttpSession session) {
			return session.getId() + " " + session.getAttribute("counter");
		}

		@GetMapping("/cart")
		String cart(HttpSession session) {
			Cart cart = (Cart) session.getAttribute("cart");
			if (cart == null) {
				cart = new Cart();
				session.setAttribute("cart", cart);
			}
			cart.items().add("item" + cart.items().size());
			return String.valueOf(cart.items().size());
		}

		@GetMapping("/hello")
		String hello() {
			return "hello";
		}

		@PostMapping("/login")
		String login(HttpServletRequest request) {
			request.getSession().setAttribute("user", "demo");
			return request.changeSessionId();
		}

	}

	/** An application class, allowed because it is in the application's package. */
	public record Cart(java.util.List<String> items) {

		public Cart() {
			this(new java.util.ArrayList<>());
		}

	}

}
