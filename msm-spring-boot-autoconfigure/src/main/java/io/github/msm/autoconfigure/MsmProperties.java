package io.github.msm.autoconfigure;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.convert.DurationUnit;
import org.springframework.session.FlushMode;
import org.springframework.session.SaveMode;
import org.springframework.util.unit.DataSize;

/**
 * Configuration properties of the memcached session store.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
@ConfigurationProperties("msm")
public class MsmProperties {

	/**
	 * Whether sessions are kept in memcached. When false, the store backs off and the
	 * servlet container keeps sessions in this server's memory.
	 */
	private boolean enabled = true;

	/**
	 * Memcached nodes as "id:host:port", separated by spaces or commas, or as a list, in
	 * ring order: each session's backup goes to the node after its primary. A single
	 * plain "host:port" gives session ids without a node suffix and no backup.
	 */
	private List<String> nodes = new ArrayList<>(List.of("localhost:11211"));

	/**
	 * Ids of nodes from msm.nodes used only while no other node is up, e.g. each app
	 * server's own local memcached. A session on a failover node moves to a regular node
	 * at its next access once one is up again.
	 */
	private List<String> failoverNodes = new ArrayList<>();

	/**
	 * Prefix of every memcached key, to share nodes between applications. Printable ASCII
	 * without spaces, at most 100 characters.
	 */
	private String keyPrefix = "";

	/**
	 * Memcached protocol. Binary is recommended: with text, a too-large item makes the
	 * client drop the connection and the operations queued on it.
	 */
	private Protocol protocol = Protocol.BINARY;

	/**
	 * How long a memcached operation may take before it counts as failed. Also bounds how
	 * long a request waits for a dead or hung node.
	 */
	@DurationUnit(ChronoUnit.MILLIS)
	private Duration operationTimeout = Duration.ofMillis(1000);

	/**
	 * Serializer of session attributes, unless a SessionSerializer bean is defined.
	 */
	private SerializerType serializer = SerializerType.KRYO;

	/**
	 * Whether writes of the backup copy are queued instead of awaited by the request.
	 */
	private boolean backupAsync = true;

	/**
	 * How far queued backup writes to one node may fall behind: when the oldest one not
	 * yet stored is older than this, a request that saves waits for its own backup write
	 * instead of queueing more, so a primary that dies loses at most the changes of about
	 * this long. The default is far above a healthy lane's lag (one pipelined round trip)
	 * and far below what an unbounded queue reaches under load. Must be more than 0.
	 */
	@DurationUnit(ChronoUnit.MILLIS)
	private Duration backupMaxLag = Duration.ofMillis(100);

	/**
	 * Largest item memcached accepts (its -I option). Larger sessions are not sent, and
	 * the write is counted in the msm.session.saves metric (outcome too-large).
	 */
	private DataSize maxItemSize = DataSize.ofMegabytes(1);

	/**
	 * How often a request that only reads its session writes its access time: once the
	 * stored access is older than this fraction of the max-inactive interval. A session
	 * then expires no earlier than its interval after the last request, and at most this
	 * fraction of the interval later. 0 writes every access; at most 0.5.
	 */
	private double accessWriteFraction = 0.125;

	/**
	 * When session changes are written: "on-save", when the request ends, or "immediate",
	 * at each setAttribute, removeAttribute and setMaxInactiveInterval (for long requests
	 * and WebSocket sessions; costs one write per change).
	 */
	private FlushMode flushMode = FlushMode.ON_SAVE;

	/**
	 * Which attributes a save serializes and writes when their bytes changed:
	 * "on-get-attribute", those read or set (a value changed in place is saved);
	 * "on-set-attribute", only those set; "always", every attribute on the first save of
	 * each request, changed or not.
	 */
	private SaveMode saveMode = SaveMode.ON_GET_ATTRIBUTE;

	/**
	 * Regular expression that the name of an attribute must match as a whole to be
	 * stored in memcached; others live only in the request that set them. Empty: every
	 * attribute is stored. Spring Security's SPRING_SECURITY_CONTEXT must match for logins
	 * to survive.
	 */
	private String attributeFilter = "";

	/**
	 * Whether sessions are indexed by principal name in memcached, so that they can be
	 * found by user name (Spring Security's concurrent session control, the actuator
	 * sessions endpoint). Costs one memcached update per login, and one read per session
	 * of the user per lookup.
	 */
	private boolean indexPrincipal;

	private final Serialization serialization = new Serialization();

	/**
	 * This server's route, e.g. "app1": appended to the ids of the sessions it creates
	 * ("<32 hex>-n1.app1"), so that a load balancer can route each user back to it. 1 to
	 * 32 of [A-Za-z0-9_]. Required by sticky mode.
	 */
	private @Nullable String jvmRoute;

	/**
	 * Whether sessions are served from this server's memory, with memcached as the copy
	 * another server takes over (needs msm.jvm-route and a load balancer that routes by
	 * it). Tuned with msm.sticky.* (see MsmStickyProperties).
	 */
	private boolean sticky;

	public @Nullable String getJvmRoute() {
		return this.jvmRoute;
	}

	public void setJvmRoute(@Nullable String jvmRoute) {
		this.jvmRoute = jvmRoute;
	}

	public boolean isSticky() {
		return this.sticky;
	}

	public void setSticky(boolean sticky) {
		this.sticky = sticky;
	}

	/**
	 * SASL user name for memcached started with -S. Needs the binary protocol; every
	 * connection, the health probe's included, authenticates with SASL PLAIN.
	 */
	private @Nullable String username;

	/**
	 * SASL password that goes with msm.username. Never logged and never part of an error
	 * message.
	 */
	private @Nullable String password;

	/**
	 * Whether msm.nodes names memcached-compatible proxies such as twemproxy rather than
	 * memcached servers. Proxies are probed with "version" instead of "stats" (which
	 * twemproxy does not support) and need msm.protocol=text; spreading keys over the
	 * servers and ejecting failed ones is then the proxy's job.
	 */
	private boolean proxy;

	public boolean isEnabled() {
		return this.enabled;
	}

	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	public List<String> getNodes() {
		return this.nodes;
	}

	public void setNodes(List<String> nodes) {
		this.nodes = nodes;
	}

	public List<String> getFailoverNodes() {
		return this.failoverNodes;
	}

	public void setFailoverNodes(List<String> failoverNodes) {
		this.failoverNodes = failoverNodes;
	}

	public String getKeyPrefix() {
		return this.keyPrefix;
	}

	public void setKeyPrefix(String keyPrefix) {
		this.keyPrefix = keyPrefix;
	}

	public Protocol getProtocol() {
		return this.protocol;
	}

	public void setProtocol(Protocol protocol) {
		this.protocol = protocol;
	}

	public Duration getOperationTimeout() {
		return this.operationTimeout;
	}

	public void setOperationTimeout(Duration operationTimeout) {
		this.operationTimeout = operationTimeout;
	}

	public SerializerType getSerializer() {
		return this.serializer;
	}

	public void setSerializer(SerializerType serializer) {
		this.serializer = serializer;
	}

	public Duration getBackupMaxLag() {
		return this.backupMaxLag;
	}

	public void setBackupMaxLag(Duration backupMaxLag) {
		this.backupMaxLag = backupMaxLag;
	}

	public boolean isBackupAsync() {
		return this.backupAsync;
	}

	public void setBackupAsync(boolean backupAsync) {
		this.backupAsync = backupAsync;
	}

	public DataSize getMaxItemSize() {
		return this.maxItemSize;
	}

	public void setMaxItemSize(DataSize maxItemSize) {
		this.maxItemSize = maxItemSize;
	}

	public double getAccessWriteFraction() {
		return this.accessWriteFraction;
	}

	public void setAccessWriteFraction(double accessWriteFraction) {
		this.accessWriteFraction = accessWriteFraction;
	}

	public FlushMode getFlushMode() {
		return this.flushMode;
	}

	public void setFlushMode(FlushMode flushMode) {
		this.flushMode = flushMode;
	}

	public SaveMode getSaveMode() {
		return this.saveMode;
	}

	public void setSaveMode(SaveMode saveMode) {
		this.saveMode = saveMode;
	}

	public String getAttributeFilter() {
		return this.attributeFilter;
	}

	public void setAttributeFilter(String attributeFilter) {
		this.attributeFilter = attributeFilter;
	}

	public boolean isIndexPrincipal() {
		return this.indexPrincipal;
	}

	public void setIndexPrincipal(boolean indexPrincipal) {
		this.indexPrincipal = indexPrincipal;
	}

	public @Nullable String getUsername() {
		return this.username;
	}

	public void setUsername(@Nullable String username) {
		this.username = username;
	}

	public @Nullable String getPassword() {
		return this.password;
	}

	public void setPassword(@Nullable String password) {
		this.password = password;
	}

	public boolean isProxy() {
		return this.proxy;
	}

	public void setProxy(boolean proxy) {
		this.proxy = proxy;
	}

	public Serialization getSerialization() {
		return this.serialization;
	}

	/**
	 * Which classes may be read back from memcached.
	 */
	public static class Serialization {

		/**
		 * Packages (with their sub-packages) whose classes may be stored in and read from
		 * sessions, besides common JDK value types, Spring Security and the application's
		 * own packages, which are always allowed. A class outside them is never
		 * instantiated: whoever reaches memcached can plant bytes there.
		 */
		private List<String> allowedPackages = new ArrayList<>();

		public List<String> getAllowedPackages() {
			return this.allowedPackages;
		}

		public void setAllowedPackages(List<String> allowedPackages) {
			this.allowedPackages = allowedPackages;
		}

	}

	/**
	 * Memcached wire protocols.
	 */
	public enum Protocol {

		/** Memcached's binary protocol. */
		BINARY,

		/** Memcached's text (ASCII) protocol. */
		TEXT

	}

	/**
	 * Attribute serializers.
	 */
	public enum SerializerType {

		/** Kryo 5: compact and fast; classes need no Serializable. */
		KRYO,

		/** Java serialization with an ObjectInputFilter; values must be Serializable. */
		JDK

	}

}
