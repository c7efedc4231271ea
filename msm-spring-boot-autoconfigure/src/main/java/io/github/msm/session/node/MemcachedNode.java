package io.github.msm.session.node;

import java.net.InetSocketAddress;
import java.util.regex.Pattern;

import org.springframework.util.Assert;

/**
 * One memcached server and the id that session ids use to point at it.
 *
 * @param id the node id, as it appears at the end of session ids ({@code n1})
 * @param host the host name or address
 * @param port the TCP port
 * @author msm-spring-boot
 * @since 0.1.0
 */
public record MemcachedNode(String id, String host, int port) {

	private static final Pattern ID = Pattern.compile("[A-Za-z0-9_]{1,32}");

	public MemcachedNode {
		Assert.isTrue(isValidId(id), () -> "'" + id + "' is not a node id (letters, digits and _, up to 32)");
		Assert.hasText(host, "'host' must not be empty");
		Assert.isTrue(port > 0 && port < 65536, () -> "port " + port + " is not between 1 and 65535");
	}

	/**
	 * Whether the text can be a node id. Session ids from cookies are checked with this
	 * before any key is built from them.
	 * @param id the candidate
	 * @return whether it is a well-formed node id
	 */
	public static boolean isValidId(String id) {
		return id != null && ID.matcher(id).matches();
	}

	public InetSocketAddress socketAddress() {
		return InetSocketAddress.createUnresolved(this.host, this.port);
	}

	@Override
	public String toString() {
		return this.id + ":" + this.host + ":" + this.port;
	}

}
