package io.github.msm.session.storage;

import java.time.Duration;

import net.spy.memcached.auth.AuthDescriptor;
import net.spy.memcached.auth.PlainCallbackHandler;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * How a {@link MemcachedStore} talks to its nodes: the protocol, the operation timeout,
 * SASL credentials, and whether the nodes are memcached servers or a proxy in front of
 * them.
 *
 * <p>
 * Two combinations cannot work and are refused here rather than failing on the first
 * request: SASL needs the binary protocol (memcached started with {@code -S} closes a
 * text connection at its first command), and twemproxy speaks only the text protocol.
 *
 * <p>
 * The password is only handed to spymemcached's {@link PlainCallbackHandler}; it is not
 * part of {@link #toString()} or of any message, so that logging the settings or an
 * error about them cannot leak it.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class ConnectionSettings {

	private final boolean binaryProtocol;

	private final Duration operationTimeout;

	private final @Nullable String username;

	private final @Nullable String password;

	private final boolean proxy;

	private ConnectionSettings(boolean binaryProtocol, Duration operationTimeout, @Nullable String username,
			@Nullable String password, boolean proxy) {
		Assert.notNull(operationTimeout, "operationTimeout must not be null");
		this.binaryProtocol = binaryProtocol;
		this.operationTimeout = operationTimeout;
		this.username = username;
		this.password = password;
		this.proxy = proxy;
	}

	/**
	 * Plain connections to memcached servers.
	 * @param binaryProtocol whether to speak the binary protocol (recommended: a too-large
	 * item does not drop the connection)
	 * @param operationTimeout how long a call waits for a node
	 * @return the settings
	 */
	public static ConnectionSettings of(boolean binaryProtocol, Duration operationTimeout) {
		return new ConnectionSettings(binaryProtocol, operationTimeout, null, null, false);
	}

	/**
	 * The same settings, authenticating every connection with SASL {@code PLAIN}, as
	 * memcached started with {@code -S} requires.
	 * @param username the SASL user name
	 * @param password the SASL password
	 * @return the settings
	 * @throws IllegalStateException if the settings use the text protocol
	 */
	public ConnectionSettings withCredentials(String username, String password) {
		Assert.hasText(username, "username must not be empty");
		Assert.notNull(password, "password must not be null");
		Assert.state(this.binaryProtocol, "SASL authentication needs the binary protocol");
		return new ConnectionSettings(true, this.operationTimeout, username, password, this.proxy);
	}

	/**
	 * The same settings for nodes that are memcached-compatible proxies such as
	 * twemproxy: they answer {@code version} but not {@code stats}, so the store probes
	 * them with {@code version}, cannot tell when a server behind them restarted and
	 * does not learn their item size limit.
	 * @return the settings
	 * @throws IllegalStateException if the settings use the binary protocol
	 */
	public ConnectionSettings throughProxy() {
		Assert.state(!this.binaryProtocol, "twemproxy speaks only the text protocol");
		return new ConnectionSettings(false, this.operationTimeout, this.username, this.password, true);
	}

	public boolean isBinaryProtocol() {
		return this.binaryProtocol;
	}

	public Duration getOperationTimeout() {
		return this.operationTimeout;
	}

	/** Whether connections authenticate with SASL. */
	public boolean isAuthenticated() {
		return this.username != null;
	}

	/** The SASL user name, or {@code null} without authentication. */
	public @Nullable String getUsername() {
		return this.username;
	}

	/** Whether the nodes are proxies that do not answer {@code stats}. */
	public boolean isProxy() {
		return this.proxy;
	}

	/**
	 * What spymemcached authenticates each new connection with: SASL {@code PLAIN} only,
	 * the mechanism memcached's sasldb setups offer.
	 * @return the descriptor, or {@code null} without credentials
	 */
	@Nullable AuthDescriptor authDescriptor() {
		if (this.username == null || this.password == null) {
			return null;
		}
		return new AuthDescriptor(new String[] { "PLAIN" }, new PlainCallbackHandler(this.username, this.password));
	}

	@Override
	public String toString() {
		return "ConnectionSettings[protocol=" + (this.binaryProtocol ? "binary" : "text") + ", operationTimeout="
				+ this.operationTimeout + ", username=" + this.username + ", password="
				+ ((this.password != null) ? "******" : null) + ", proxy=" + this.proxy + "]";
	}

}
