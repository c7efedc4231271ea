package io.github.msm.session.serializer;

import org.jspecify.annotations.Nullable;

/**
 * Turns one session attribute value into bytes and back.
 *
 * <p>
 * The repository serializes attributes one by one, so an attribute that cannot be read
 * costs only that attribute, not the whole session. Implementations must be thread-safe
 * and must never instantiate a class that their allow-list rejects: whoever can reach
 * memcached can plant bytes there.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public interface SessionSerializer {

	/**
	 * Identifier written into every stored session, so that a server configured with
	 * another serializer treats the bytes as unreadable instead of misreading them.
	 * @return a stable, non-zero id, unique among serializers
	 */
	byte id();

	/**
	 * Serialize one attribute value.
	 * @param value the value, never {@code null}
	 * @return the bytes
	 * @throws SessionSerializationException if the value cannot be written, for example
	 * because its class is not allowed
	 */
	byte[] serialize(Object value);

	/**
	 * Deserialize one attribute value.
	 * @param bytes the bytes written by {@link #serialize(Object)}, possibly by another
	 * server
	 * @return the value
	 * @throws SessionSerializationException if the bytes are corrupt or name a class that
	 * is not allowed
	 */
	Object deserialize(byte[] bytes);

	/**
	 * Serialize a value only if it no longer serializes to the given bytes: the dirty
	 * check of an attribute a request only read, which is unchanged far more often than
	 * not. Implementations may compare without allocating the bytes of an unchanged
	 * value; a changed one is serialized once.
	 * @param value the value, never {@code null}
	 * @param expected the bytes the value was stored as
	 * @return {@code null} when {@link #serialize(Object)} would return bytes equal to
	 * {@code expected}, else those bytes
	 * @throws SessionSerializationException if the value cannot be written
	 */
	default byte @Nullable [] serializeIfChanged(Object value, byte[] expected) {
		byte[] bytes = serialize(value);
		return java.util.Arrays.equals(bytes, expected) ? null : bytes;
	}

}
