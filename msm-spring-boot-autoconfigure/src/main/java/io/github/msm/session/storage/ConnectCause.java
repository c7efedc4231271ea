package io.github.msm.session.storage;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;

import io.github.msm.session.node.MemcachedNode;

/**
 * Names why a node has no connection, by opening a plain TCP connection to it.
 *
 * <p>
 * spymemcached cancels what was queued for a node whose connection dropped and
 * reconnects in the background, keeping the reason to itself: a probe then only learns
 * "stats failed: cancelled" or "not connected". An operator needs the cause: a refused
 * connection (no process listens: crashed, stopped, wrong port), a connect timeout (host
 * down or packets dropped), an unknown host, or a node that accepts connections but does
 * not answer (hung, overloaded).
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class ConnectCause {

	private ConnectCause() {
	}

	/**
	 * Connects to the node and closes the connection again.
	 * @param node the node
	 * @param timeout how long to wait for the connection
	 * @return what the attempt showed, such as "connection refused by 127.0.0.1:11211"
	 */
	static String of(MemcachedNode node, Duration timeout) {
		InetSocketAddress address = new InetSocketAddress(node.host(), node.port());
		String target = node.host() + ":" + node.port();
		if (address.isUnresolved()) {
			return "host " + node.host() + " does not resolve";
		}
		try (Socket socket = new Socket()) {
			socket.connect(address, (int) Math.max(1, timeout.toMillis()));
			return target + " accepts connections but memcached does not answer (hung or overloaded?)";
		}
		catch (SocketTimeoutException ex) {
			return "connecting to " + target + " timed out after " + timeout.toMillis() + " ms (host down or"
					+ " unreachable?)";
		}
		catch (NoRouteToHostException ex) {
			return "no route to " + target;
		}
		catch (ConnectException ex) {
			String message = (ex.getMessage() != null) ? ex.getMessage() : ex.toString();
			return message.toLowerCase(java.util.Locale.ROOT).contains("refused")
					? "connection refused by " + target + " (no memcached listening)" : "connecting to " + target
							+ " failed: " + message;
		}
		catch (IOException | RuntimeException ex) {
			return "connecting to " + target + " failed: " + ex;
		}
	}

}
