package io.github.msm.session.storage;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

import io.github.msm.session.node.MemcachedNode;
import net.spy.memcached.ConnectionFactory;
import net.spy.memcached.ConnectionObserver;
import net.spy.memcached.MemcachedClient;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * The spymemcached client of one node.
 *
 * <p>
 * The client exists only once the node's host resolves: a node whose name is not (yet)
 * in DNS has none, and {@link #open()} tries again. A client whose IO thread died, or
 * that keeps reconnecting to an address the host no longer resolves to, is replaced. None
 * of this throws: a node that cannot be reached is a down node, not a broken store.
 *
 * <p>
 * spymemcached reports connects and disconnects on its IO thread; they are handed to
 * {@code onChange} as they are, which must only pass the news on.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class NodeConnection {

	private static final Log logger = LogFactory.getLog(NodeConnection.class);

	private final MemcachedNode node;

	private final Function<ConnectionObserver, ConnectionFactory> factory;

	private final Consumer<MemcachedNode> onChange;

	private final CountDownLatch firstConnect = new CountDownLatch(1);

	private volatile @Nullable MemcachedClient client;

	private @Nullable InetSocketAddress address;

	private boolean closed;

	/**
	 * @param node the node
	 * @param factory builds the client's connection factory around the observer it must
	 * report connects and disconnects to (one factory per client: spymemcached's
	 * builder-made factories read the builder's fields live)
	 * @param onChange told, on the IO thread, when the connection is established or lost
	 */
	NodeConnection(MemcachedNode node, Function<ConnectionObserver, ConnectionFactory> factory,
			Consumer<MemcachedNode> onChange) {
		this.node = node;
		this.factory = factory;
		this.onChange = onChange;
	}

	/** The client, or {@code null} while the host does not resolve. */
	@Nullable MemcachedClient client() {
		return this.client;
	}

	/** Whether the client has an open connection (no network traffic: spymemcached's own state). */
	boolean isConnected() {
		MemcachedClient current = this.client;
		return current != null && !current.getAvailableServers().isEmpty();
	}

	/**
	 * Makes sure there is a working client: creates one if there is none, replaces one
	 * whose IO thread died, and replaces a disconnected one when the host now resolves to
	 * another address. Looks the host up only when there is no connection.
	 * @return whether there is a client (it may still be connecting)
	 */
	synchronized boolean open() {
		if (this.closed) {
			return false;
		}
		MemcachedClient current = this.client;
		boolean alive = current != null && current.getConnection().isAlive();
		if (alive && isConnected()) {
			return true;
		}
		InetSocketAddress resolved = new InetSocketAddress(this.node.host(), this.node.port());
		if (resolved.isUnresolved()) {
			return alive;
		}
		if (alive && resolved.equals(this.address)) {
			return true;
		}
		try {
			MemcachedClient created = new MemcachedClient(this.factory.apply(new Observer()), List.of(resolved));
			this.client = created;
			this.address = resolved;
			if (current != null) {
				logger.info("Replacing the memcached client of node " + this.node
						+ (alive ? " (" + resolved + " is its new address)" : " (its IO thread died)"));
				current.shutdown(0, TimeUnit.MILLISECONDS);
			}
			return true;
		}
		catch (Exception ex) {
			logger.debug("Could not create a memcached client for node " + this.node, ex);
			return alive;
		}
	}

	/**
	 * Waits until the client connected for the first time.
	 * @param deadline a {@link System#nanoTime()} value
	 * @return whether it connected before the deadline
	 */
	boolean awaitFirstConnect(long deadline) {
		if (this.client == null) {
			return false;
		}
		try {
			return this.firstConnect.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
	}

	/**
	 * Shuts the client down.
	 * @param wait how long queued operations may still take, in milliseconds
	 */
	synchronized void close(long wait) {
		this.closed = true;
		MemcachedClient current = this.client;
		if (current != null) {
			current.shutdown(wait, TimeUnit.MILLISECONDS);
		}
	}

	/** Runs on spymemcached's IO thread: hands the news on and returns. */
	private final class Observer implements ConnectionObserver {

		@Override
		public void connectionEstablished(SocketAddress address, int reconnectCount) {
			NodeConnection.this.firstConnect.countDown();
			NodeConnection.this.onChange.accept(NodeConnection.this.node);
		}

		@Override
		public void connectionLost(SocketAddress address) {
			NodeConnection.this.onChange.accept(NodeConnection.this.node);
		}

	}

}
