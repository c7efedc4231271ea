package io.github.msm.session;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The wire format of the two items a session keeps in memcached.
 *
 * <p>
 * The data item holds a versioned header and then each attribute as name and
 * separately serialized bytes, so that one unreadable attribute costs only itself, and
 * untouched attributes are copied into the next write without being deserialized. The
 * validity item holds only what a read-only request changes (last access), so such a
 * request writes 26 bytes instead of the session. Readers take the newer of the two.
 *
 * <p>
 * Every length is checked against the bytes that are left: corrupt or truncated items
 * fail with {@link CorruptSessionException}, never with a huge allocation.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class SessionCodec {

	private static final byte DATA_MAGIC = 'M';

	private static final byte VALIDITY_MAGIC = 'V';

	private static final byte VERSION = 1;

	private static final int MAX_NAME_BYTES = 4096;

	private SessionCodec() {
	}

	/**
	 * What a data item holds.
	 * @param serializerId the serializer that wrote the attributes
	 * @param times access times and lifetime
	 * @param attributes attribute bytes by name, in stored order
	 */
	record Data(byte serializerId, Times times, Map<String, byte[]> attributes) {
	}

	/**
	 * Access times, lifetime, and when the data item expires in memcached (epoch
	 * seconds, {@code Long.MAX_VALUE} for never) so a read-only request knows whether the
	 * data needs a {@code touch}.
	 */
	record Times(Instant creationTime, Instant lastAccessedTime, Duration maxInactiveInterval, long dataExpiresAt) {

		/** The newer of two views of the same session. */
		Times newer(Times other) {
			Times latest = other.lastAccessedTime.isAfter(this.lastAccessedTime) ? other : this;
			return new Times(this.creationTime, latest.lastAccessedTime, latest.maxInactiveInterval,
					Math.max(this.dataExpiresAt, other.dataExpiresAt));
		}

	}

	static byte[] encodeData(byte serializerId, Times times, Map<String, byte[]> attributes) {
		int size = 40;
		for (Map.Entry<String, byte[]> attribute : attributes.entrySet()) {
			size += 8 + attribute.getKey().length() * 3 + attribute.getValue().length;
		}
		ByteArrayOutputStream bytes = new ByteArrayOutputStream(size);
		try (DataOutputStream out = new DataOutputStream(bytes)) {
			out.writeByte(DATA_MAGIC);
			out.writeByte(VERSION);
			out.writeByte(serializerId);
			out.writeLong(times.creationTime().toEpochMilli());
			out.writeLong(times.lastAccessedTime().toEpochMilli());
			out.writeLong(times.maxInactiveInterval().getSeconds());
			out.writeLong(times.dataExpiresAt());
			out.writeInt(attributes.size());
			for (Map.Entry<String, byte[]> attribute : attributes.entrySet()) {
				byte[] name = attribute.getKey().getBytes(StandardCharsets.UTF_8);
				out.writeShort(name.length);
				out.write(name);
				out.writeInt(attribute.getValue().length);
				out.write(attribute.getValue());
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		return bytes.toByteArray();
	}

	static Data decodeData(byte[] bytes) {
		try {
			ByteBuffer in = ByteBuffer.wrap(bytes);
			expect(in.get() == DATA_MAGIC && in.get() == VERSION, "not a session data item of version 1");
			byte serializerId = in.get();
			Times times = new Times(Instant.ofEpochMilli(in.getLong()), Instant.ofEpochMilli(in.getLong()),
					Duration.ofSeconds(in.getLong()), in.getLong());
			int count = in.getInt();
			expect(count >= 0 && count <= in.remaining() / 6, "attribute count " + count + " does not fit");
			Map<String, byte[]> attributes = new LinkedHashMap<>(Math.max(4, count * 2));
			for (int i = 0; i < count; i++) {
				int nameLength = Short.toUnsignedInt(in.getShort());
				expect(nameLength <= MAX_NAME_BYTES && nameLength <= in.remaining(), "attribute name does not fit");
				byte[] name = new byte[nameLength];
				in.get(name);
				int valueLength = in.getInt();
				expect(valueLength >= 0 && valueLength <= in.remaining(), "attribute value does not fit");
				byte[] value = new byte[valueLength];
				in.get(value);
				attributes.put(new String(name, StandardCharsets.UTF_8), value);
			}
			expect(!in.hasRemaining(), "trailing bytes");
			return new Data(serializerId, times, attributes);
		}
		catch (BufferUnderflowException | java.time.DateTimeException | ArithmeticException ex) {
			throw new CorruptSessionException("truncated or corrupt session data", ex);
		}
	}

	static byte[] encodeValidity(Times times) {
		return ByteBuffer.allocate(26)
			.put(VALIDITY_MAGIC)
			.put(VERSION)
			.putLong(times.lastAccessedTime().toEpochMilli())
			.putLong(times.maxInactiveInterval().getSeconds())
			.putLong(times.dataExpiresAt())
			.array();
	}

	/**
	 * Reads a validity item into times that borrow the creation time from the data item.
	 */
	static Times decodeValidity(byte[] bytes, Instant creationTime) {
		try {
			ByteBuffer in = ByteBuffer.wrap(bytes);
			expect(bytes.length == 26 && in.get() == VALIDITY_MAGIC && in.get() == VERSION, "not a validity item");
			return new Times(creationTime, Instant.ofEpochMilli(in.getLong()), Duration.ofSeconds(in.getLong()),
					in.getLong());
		}
		catch (BufferUnderflowException | java.time.DateTimeException | ArithmeticException ex) {
			throw new CorruptSessionException("corrupt validity item", ex);
		}
	}

	private static void expect(boolean condition, String problem) {
		if (!condition) {
			throw new CorruptSessionException(problem, null);
		}
	}

	/** Stored bytes that are not a session this version can read. */
	static final class CorruptSessionException extends RuntimeException {

		CorruptSessionException(String message, Throwable cause) {
			super(message, cause);
		}

	}

}
