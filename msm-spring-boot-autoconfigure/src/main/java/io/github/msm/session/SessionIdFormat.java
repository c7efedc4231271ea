package io.github.msm.session;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import org.jspecify.annotations.Nullable;

/**
 * Session ids: 128 random bits as 32 lowercase hex characters, then {@code -<nodeId>}
 * naming the memcached node that holds the session ({@code 3f…9a-n1}).
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

	private static final Pattern SUFFIXED = Pattern.compile("[0-9a-f]{32}-([A-Za-z0-9_]{1,32})");

	private static final Pattern PLAIN = Pattern.compile("[0-9a-f]{32}");

	private static final HexFormat HEX = HexFormat.of();

	private final SecureRandom random = new SecureRandom();

	private final NodeRing ring;

	public SessionIdFormat(NodeRing ring) {
		this.ring = ring;
	}

	/**
	 * A new id on the given node.
	 * @param node the node the session will live on
	 * @return the id
	 */
	public String newId(MemcachedNode node) {
		String base = newBase();
		return this.ring.isNodeIdInSessionId() ? base + "-" + node.id() : base;
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
	 * session that moves because its node went away.
	 * @param id a valid id with a node, or a local id
	 * @param node the new node
	 * @return the id
	 */
	public String onNode(String id, MemcachedNode node) {
		int dash = id.indexOf('-');
		String base = (dash < 0) ? id : id.substring(0, dash);
		return this.ring.isNodeIdInSessionId() ? base + "-" + node.id() : base;
	}

	/**
	 * A new id for a session that lives only in this server's memory, because no node is
	 * up: 32 hex characters and no node.
	 * @return the id
	 */
	public String newLocalId() {
		return newBase();
	}

	/**
	 * Whether the id is a local one (see {@link #newLocalId()}). With a single node given
	 * as plain {@code host:port}, ids never carry a node and none is local.
	 * @param id an id from anywhere
	 * @return whether it is well-formed and local
	 */
	public boolean isLocal(@Nullable String id) {
		return id != null && this.ring.isNodeIdInSessionId() && PLAIN.matcher(id).matches();
	}

	/**
	 * The node an id points at.
	 * @param id an id from anywhere, including a hostile cookie
	 * @return the node, or {@code null} if the id is malformed or names an unknown node
	 */
	public @Nullable MemcachedNode nodeOf(@Nullable String id) {
		if (id == null || id.length() > 65) {
			return null;
		}
		if (!this.ring.isNodeIdInSessionId()) {
			return PLAIN.matcher(id).matches() ? this.ring.nodes().get(0) : null;
		}
		Matcher matcher = SUFFIXED.matcher(id);
		return matcher.matches() ? this.ring.node(matcher.group(1)) : null;
	}

	private String newBase() {
		byte[] bytes = new byte[16];
		this.random.nextBytes(bytes);
		return HEX.formatHex(bytes);
	}

}
