package io.github.msm.session;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import io.github.msm.session.log.SessionIdTag;
import io.github.msm.session.serializer.SessionSerializer;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * Serializes attribute values and absorbs their failures: an attribute that cannot be
 * read or written is counted, and logged once per attribute name, so one bad value never
 * turns every request of a user into an error (spring-session #1939, #3430). An
 * unreadable attribute is hidden from this request but stays stored (see
 * {@link MemcachedSession}). It also carries the {@link SessionSavePolicy}: which
 * attributes are stored, and whether a change is saved at once.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class AttributeCodec {

	private static final Log logger = LogFactory.getLog(AttributeCodec.class);

	private static final int MAX_REMEMBERED_WARNINGS = 1000;

	/**
	 * What {@link #encodeIfChanged} answers for a value that still serializes to its
	 * stored bytes; compared by identity.
	 */
	static final byte[] UNCHANGED = new byte[0];

	private final SessionSerializer serializer;

	private final SessionMetrics metrics;

	private final Set<String> warned = ConcurrentHashMap.newKeySet();

	private final SessionSavePolicy policy;

	private final Consumer<MemcachedSession> flusher;

	AttributeCodec(SessionSerializer serializer, SessionMetrics metrics) {
		this(serializer, metrics, SessionSavePolicy.DEFAULT, (session) -> {
		});
	}

	/**
	 * @param flusher saves a session; called on each change when the policy says
	 * {@link SessionSavePolicy#isImmediate() immediate}
	 */
	AttributeCodec(SessionSerializer serializer, SessionMetrics metrics, SessionSavePolicy policy,
			Consumer<MemcachedSession> flusher) {
		this.serializer = serializer;
		this.metrics = metrics;
		this.policy = policy;
		this.flusher = flusher;
	}

	SessionSavePolicy policy() {
		return this.policy;
	}

	/** A session changed: saved at once when the flush mode is immediate. */
	void changed(MemcachedSession session) {
		if (this.policy.isImmediate()) {
			this.flusher.accept(session);
		}
	}

	byte serializerId() {
		return this.serializer.id();
	}

	@Nullable Object decode(String sessionId, String name, byte[] bytes) {
		long start = System.nanoTime();
		try {
			Object value = this.serializer.deserialize(bytes);
			this.metrics.deserialized(start);
			return value;
		}
		catch (RuntimeException ex) {
			this.metrics.unreadableAttribute();
			warnOnce("read:" + name, () -> "Session attribute '" + name + "' of session " + SessionIdTag.of(sessionId)
					+ " cannot be read by this server (" + ex.getMessage() + "): hidden from the application and"
					+ " kept stored for servers that can read it; further failures of it are only counted");
			return null;
		}
	}

	/**
	 * Whether a name fits the stored format; a longer one is not stored (counted and
	 * logged once), so that one odd name never makes the whole session unreadable.
	 */
	boolean isStorableName(String sessionId, String name) {
		if (name.length() * 3 <= SessionCodec.MAX_NAME_BYTES
				|| name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= SessionCodec.MAX_NAME_BYTES) {
			return true;
		}
		this.metrics.unwritableAttribute();
		warnOnce("name:" + name.substring(0, 64), () -> "Session attribute '" + name.substring(0, 64) + "…' of session "
				+ SessionIdTag.of(sessionId) + " is not stored: its name is longer than " + SessionCodec.MAX_NAME_BYTES + " bytes");
		return false;
	}

	byte @Nullable [] encode(String sessionId, String name, Object value) {
		long start = System.nanoTime();
		try {
			byte[] bytes = this.serializer.serialize(value);
			this.metrics.serialized(start);
			return bytes;
		}
		catch (RuntimeException ex) {
			this.metrics.unwritableAttribute();
			warnOnce("write:" + name, () -> "Session attribute '" + name + "' (" + value.getClass().getName()
					+ ") of session " + SessionIdTag.of(sessionId) + " is not stored: " + ex.getMessage());
			return null;
		}
	}

	/**
	 * The bytes of a value that no longer serializes to the bytes it is stored as;
	 * {@link #UNCHANGED} when it still does (compared without allocating its bytes where
	 * the serializer can); {@code null} when it cannot be written (counted and logged as
	 * by {@link #encode}).
	 */
	byte @Nullable [] encodeIfChanged(String sessionId, String name, Object value, byte[] stored) {
		long start = System.nanoTime();
		try {
			byte[] bytes = this.serializer.serializeIfChanged(value, stored);
			this.metrics.serialized(start);
			return (bytes != null) ? bytes : UNCHANGED;
		}
		catch (RuntimeException ex) {
			this.metrics.unwritableAttribute();
			warnOnce("write:" + name, () -> "Session attribute '" + name + "' (" + value.getClass().getName()
					+ ") of session " + SessionIdTag.of(sessionId) + " is not stored: " + ex.getMessage());
			return null;
		}
	}

	private void warnOnce(String key, java.util.function.Supplier<String> message) {
		if (this.warned.size() < MAX_REMEMBERED_WARNINGS && this.warned.add(key)) {
			logger.warn(message.get());
		}
		else if (logger.isDebugEnabled()) {
			logger.debug(message.get());
		}
	}

}
