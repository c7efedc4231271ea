package io.github.msm.session;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import org.jspecify.annotations.Nullable;

/**
 * Session ids: 128 random bits as 32 lowercase hex characters, then {@code -<nodeId>}
 * naming the memcached node that holds the session ({@code 3f…9a-n1}), then, when the
 * servers have routes ({@code msm.jvm-route}), {@code .<route>} naming the server that
 * serves it ({@code 3f…9a-n1.app1}), so that a load balancer can route by it as msm's
 * users route by Tomcat's {@code jvmRoute}.
 *
 * <p>
 * Ids arrive in cookies, so they are untrusted: {@link #nodeOf(String)} is the gate
 * every id passes before a memcached key is built from it. Anything that is not exactly
 * this format, or names a node that is not configured, is treated as no id at all.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class SessionIdFormat {

	/** The length of an id's random part: 128 bits as lowercase hex. */
	static final int BASE_LENGTH = 32;

	/** What a route may be: it ends up in ids, keys and the load balancer's configuration. */
	public static final Pattern ROUTE = Pattern.compile("[A-Za-z0-9_]{1,32}");

	private static final HexFormat HEX = HexFormat.of();

	private final SecureRandom random = new SecureRandom();

	private final NodeRing ring;

	/** Route suffix of new ids: {@code .<route>}, or empty without a route. */
	private final String routeSuffix;

	public SessionIdFormat(NodeRing ring) {
		this(ring, null);
	}

	/**
	 * @param ring the nodes
	 * @param route this server's route, appended to the ids it makes; {@code null} for none
	 */
	public SessionIdFormat(NodeRing ring, @Nullable String route) {
		if (route != null && !ROUTE.matcher(route).matches()) {
			throw new IllegalArgumentException("route '" + route + "' is not 1 to 32 of [A-Za-z0-9_]");
		}
		this.ring = ring;
		this.routeSuffix = (route != null) ? "." + route : "";
	}

	/** This server's route, {@code null} when it has none. */
	public @Nullable String route() {
		return this.routeSuffix.isEmpty() ? null : this.routeSuffix.substring(1);
	}

	/**
	 * The route an id carries.
	 * @param id a valid id
	 * @return the route, {@code null} when the id has none
	 */
	public static @Nullable String routeOf(String id) {
		int dot = id.indexOf('.');
		return (dot < 0) ? null : id.substring(dot + 1);
	}

	/**
	 * The same session id with this server's route: base and node are kept, for a
	 * session this server takes over from another one.
	 * @param id a valid id
	 * @return the id with this server's route (without any, when this server has none)
	 */
	public String withOwnRoute(String id) {
		int dot = id.indexOf('.');
		return ((dot < 0) ? id : id.substring(0, dot)) + this.routeSuffix;
	}

	/**
	 * A new id on the given node.
	 * @param node the node the session will live on
	 * @return the id
	 */
	public String newId(MemcachedNode node) {
		String base = newBase();
		return (this.ring.isNodeIdInSessionId() ? base + "-" + node.id() : base) + this.routeSuffix;
	}

	/**
	 * A new random id on the same node as the given one, for session fixation protection.
	 * @param id a valid id
	 * @return the new id
	 */
	public String changeId(String id) {
		if (isLocal(id)) {
			return newLocalId();
		}
		MemcachedNode node = nodeOf(id);
		if (node == null) {
			throw new IllegalArgumentException("not a session id of this store: " + id);
		}
		return newId(node);
	}

	/**
	 * The same id on another node ({@code <base>-n1} becomes {@code <base>-n2}), for a
	 * session that moves because its node went away. The route the id carries is kept,
	 * so every server that moves the session moves it to the same id.
	 * @param id a valid id with a node, or a local id
	 * @param node the new node
	 * @return the id
	 */
	public String onNode(String id, MemcachedNode node) {
		int dot = id.indexOf('.');
		String route = (dot < 0) ? "" : id.substring(dot);
		String base = id.substring(0, 32);
		return (this.ring.isNodeIdInSessionId() ? base + "-" + node.id() : base) + route;
	}

	/**
	 * A new id for a session that lives only in this server's memory, because no node is
	 * up: 32 hex characters and no node.
	 * @return the id
	 */
	public String newLocalId() {
		return newBase() + this.routeSuffix;
	}

	/**
	 * Whether the id is a local one (see {@link #newLocalId()}). With a single node given
	 * as plain {@code host:port}, ids never carry a node and none is local.
	 * @param id an id from anywhere
	 * @return whether it is well-formed and local
	 */
	public boolean isLocal(@Nullable String id) {
		return id != null && this.ring.isNodeIdInSessionId() && isPlain(id);
	}

	/**
	 * The node an id points at.
	 * @param id an id from anywhere, including a hostile cookie
	 * @return the node, or {@code null} if the id is malformed or names an unknown node
	 */
	public @Nullable MemcachedNode nodeOf(@Nullable String id) {
		if (id == null || id.length() > 98) {
			return null;
		}
		if (!this.ring.isNodeIdInSessionId()) {
			return isPlain(id) ? this.ring.nodes().get(0) : null;
		}
		// <32 lowercase hex>-<node id>[.<route>], node id and route 1 to 32 of [A-Za-z0-9_]
		if (id.length() < BASE_LENGTH + 2 || !isBase(id) || id.charAt(BASE_LENGTH) != '-') {
			return null;
		}
		int dot = id.indexOf('.', BASE_LENGTH + 1);
		int nodeEnd = (dot < 0) ? id.length() : dot;
		if (!isWord(id, BASE_LENGTH + 1, nodeEnd) || (dot >= 0 && !isWord(id, dot + 1, id.length()))) {
			return null;
		}
		return this.ring.node(id.substring(BASE_LENGTH + 1, nodeEnd));
	}

	/*
	 * Ids are checked by hand rather than with a regular expression: every request checks
	 * its cookie's id at least twice, and a matcher cost more than the rest of the check.
	 */

	/** {@code <32 lowercase hex>[.<route>]}. */
	private static boolean isPlain(String id) {
		return id.length() >= BASE_LENGTH && isBase(id)
				&& (id.length() == BASE_LENGTH || (id.charAt(BASE_LENGTH) == '.' && isWord(id, BASE_LENGTH + 1, id.length())));
	}

	/** Whether the id starts with 32 lowercase hex characters. */
	private static boolean isBase(String id) {
		for (int i = 0; i < BASE_LENGTH; i++) {
			char c = id.charAt(i);
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
				return false;
			}
		}
		return true;
	}

	/** Whether {@code text[from, to)} is 1 to 32 of {@code [A-Za-z0-9_]} (a node id or route). */
	private static boolean isWord(String text, int from, int to) {
		if (to - from < 1 || to - from > 32) {
			return false;
		}
		for (int i = from; i < to; i++) {
			char c = text.charAt(i);
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
				return false;
			}
		}
		return true;
	}

	private String newBase() {
		byte[] bytes = new byte[16];
		this.random.nextBytes(bytes);
		return HEX.formatHex(bytes);
	}

}
