package io.github.msm.session;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The wire format of the items a session keeps in memcached.
 *
 * <p>
 * The <em>data item</em> is the single source of truth for creation time, max-inactive
 * interval and the session's version, which grows by one with every write of the data
 * item. Those writes are ordered by memcached's compare-and-set, never by comparing two
 * servers' clocks. The data item then holds each attribute as name and separately
 * serialized bytes, so that one unreadable attribute costs only itself and untouched
 * attributes are copied into the next write without being deserialized.
 *
 * <p>
 * The <em>validity item</em> holds only what a read-only request changes (its access),
 * stamped with the version of the data item it extends, so such a request writes 38
 * bytes instead of the session. A reader uses the validity item only if it extends the
 * current version; after a newer data write the data item's own access counts. One item
 * always wins by version; fields of the two are never mixed or compared by time.
 *
 * <p>
 * A <em>tombstone</em> replaces the data item of a deleted or renamed session where late
 * writes could otherwise bring it back (the backup node, the old id of a rename).
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

	private static final byte TOMBSTONE_MAGIC = 'T';

	private static final byte FORMAT = 2;

	private static final int VALIDITY_LENGTH = 38;

	static final int MAX_NAME_BYTES = 4096;

	private static final byte[] TOMBSTONE = { TOMBSTONE_MAGIC, FORMAT };

	private SessionCodec() {
	}

	/**
	 * When a session was last accessed, as stored.
	 * @param lastAccessedTime the access time the application sees
	 * @param slack how much later than {@code lastAccessedTime + interval} the session
	 * expires: accesses within it were not written (the write throttle); zero for an
	 * access time set explicitly
	 * @param itemsExpireAt when memcached drops the data item, in epoch seconds of the
	 * writer ({@code Long.MAX_VALUE}: never), so a reader knows when it must {@code touch}
	 */
	record Access(Instant lastAccessedTime, Duration slack, long itemsExpireAt) {
	}

	/**
	 * What a data item holds.
	 * @param serializerId the serializer that wrote the attributes
	 * @param creationTime when the session was created
	 * @param maxInactiveInterval the interval in force (zero or negative: never expires)
	 * @param version grows by one with every write of the data item
	 * @param access the access as of this version
	 * @param attributes attribute bytes by name, in stored order
	 */
	record Data(byte serializerId, Instant creationTime, Duration maxInactiveInterval, long version, Access access,
			Map<String, byte[]> attributes) {
	}

	/**
	 * What a validity item holds.
	 * @param version the data version this access extends
	 * @param access the access
	 */
	record Validity(long version, Access access) {
	}

	static byte[] encodeData(Data data) {
		int size = 64;
		for (Map.Entry<String, byte[]> attribute : data.attributes().entrySet()) {
			size += 8 + attribute.getKey().length() * 3 + attribute.getValue().length;
		}
		ByteArrayOutputStream bytes = new ByteArrayOutputStream(size);
		try (DataOutputStream out = new DataOutputStream(bytes)) {
			out.writeByte(DATA_MAGIC);
			out.writeByte(FORMAT);
			out.writeByte(data.serializerId());
			out.writeLong(data.creationTime().toEpochMilli());
			out.writeLong(data.maxInactiveInterval().toMillis());
			out.writeLong(data.version());
			writeAccess(out, data.access());
			out.writeInt(data.attributes().size());
			for (Map.Entry<String, byte[]> attribute : data.attributes().entrySet()) {
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

	/**
	 * Reads a data item.
	 * @throws ForeignFormatException if the item is a session of another format version
	 * @throws CorruptSessionException if the bytes are not a session
	 */
	static Data decodeData(byte[] bytes) {
		try {
			ByteBuffer in = ByteBuffer.wrap(bytes);
			expect(in.get() == DATA_MAGIC, "not a session data item");
			byte format = in.get();
			if (format != FORMAT) {
				throw new ForeignFormatException("session format " + format + ", this server reads " + FORMAT);
			}
			byte serializerId = in.get();
			Instant creationTime = Instant.ofEpochMilli(in.getLong());
			long intervalMillis = in.getLong();
			expect(Math.abs(intervalMillis) <= SessionLifetime.MAX_INTERVAL.toMillis(), "interval out of range");
			Duration interval = Duration.ofMillis(intervalMillis);
			long version = in.getLong();
			Access access = readAccess(in);
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
			return new Data(serializerId, creationTime, interval, version, access, attributes);
		}
		catch (BufferUnderflowException | DateTimeException | ArithmeticException ex) {
			throw new CorruptSessionException("truncated or corrupt session data", ex);
		}
	}

	static byte[] encodeValidity(Validity validity) {
		ByteBuffer out = ByteBuffer.allocate(VALIDITY_LENGTH).put(VALIDITY_MAGIC).put(FORMAT).putLong(validity.version());
		Access access = validity.access();
		return out.putLong(access.lastAccessedTime().toEpochMilli())
			.putLong(access.slack().toMillis())
			.putLong(access.itemsExpireAt())
			.array();
	}

	/**
	 * Reads a validity item.
	 * @throws CorruptSessionException if the bytes are not a validity item of this format
	 */
	static Validity decodeValidity(byte[] bytes) {
		try {
			ByteBuffer in = ByteBuffer.wrap(bytes);
			expect(bytes.length == VALIDITY_LENGTH && in.get() == VALIDITY_MAGIC && in.get() == FORMAT,
					"not a validity item");
			long version = in.getLong();
			return new Validity(version, readAccess(in));
		}
		catch (BufferUnderflowException | DateTimeException | ArithmeticException ex) {
			throw new CorruptSessionException("corrupt validity item", ex);
		}
	}

	static byte[] tombstone() {
		return TOMBSTONE.clone();
	}

	/**
	 * A tombstone of a session that moved to another node: readers of the old id follow
	 * it to the new one, so requests still carrying the old cookie keep their session.
	 */
	static byte[] movedTombstone(String newId) {
		byte[] id = newId.getBytes(StandardCharsets.US_ASCII);
		byte[] bytes = new byte[TOMBSTONE.length + id.length];
		System.arraycopy(TOMBSTONE, 0, bytes, 0, TOMBSTONE.length);
		System.arraycopy(id, 0, bytes, TOMBSTONE.length, id.length);
		return bytes;
	}

	/**
	 * The record of a move: a moved tombstone that also says which version of the session
	 * the mover moved and a digest of each of its attributes, so that whoever replaces the
	 * old id later can tell a write made there after the move and merge it into the moved
	 * session instead of overwriting it.
	 */
	static byte[] movedRecord(String newId, MovedRecord record) {
		ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + record.digests().size() * 24);
		try (DataOutputStream out = new DataOutputStream(bytes)) {
			out.write(movedTombstone(newId));
			out.writeByte(0);
			out.writeLong(record.version());
			out.writeInt(record.digests().size());
			for (Map.Entry<String, Long> digest : record.digests().entrySet()) {
				byte[] name = digest.getKey().getBytes(StandardCharsets.UTF_8);
				out.writeShort(name.length);
				out.write(name);
				out.writeLong(digest.getValue());
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		return bytes.toByteArray();
	}

	/**
	 * What a move record says besides the new id.
	 * @param version the version of the session the mover moved
	 * @param digests a digest of each attribute of that version, by name
	 */
	record MovedRecord(long version, Map<String, Long> digests) {

		static MovedRecord of(Data moved) {
			Map<String, Long> digests = new LinkedHashMap<>();
			moved.attributes().forEach((name, value) -> digests.put(name, digest(value)));
			return new MovedRecord(moved.version(), digests);
		}

	}

	/** A 64-bit digest of attribute bytes (the first 8 bytes of their SHA-256). */
	static long digest(byte[] value) {
		try {
			return ByteBuffer.wrap(java.security.MessageDigest.getInstance("SHA-256").digest(value)).getLong();
		}
		catch (java.security.NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * The move record a tombstone holds.
	 * @return the record, {@code null} for a plain or moved tombstone without one (or one
	 * that does not decode)
	 */
	static MovedRecord movedRecord(byte[] tombstone) {
		int end = idEnd(tombstone);
		if (end >= tombstone.length) {
			return null;
		}
		try {
			ByteBuffer in = ByteBuffer.wrap(tombstone, end + 1, tombstone.length - end - 1);
			long version = in.getLong();
			int count = in.getInt();
			expect(count >= 0 && count <= in.remaining() / 10, "digest count does not fit");
			Map<String, Long> digests = new LinkedHashMap<>(Math.max(4, count * 2));
			for (int i = 0; i < count; i++) {
				int nameLength = Short.toUnsignedInt(in.getShort());
				expect(nameLength <= MAX_NAME_BYTES && nameLength <= in.remaining(), "name does not fit");
				byte[] name = new byte[nameLength];
				in.get(name);
				digests.put(new String(name, StandardCharsets.UTF_8), in.getLong());
			}
			return new MovedRecord(version, digests);
		}
		catch (BufferUnderflowException | CorruptSessionException ex) {
			return null;
		}
	}

	static boolean isTombstone(byte[] bytes) {
		return bytes.length >= TOMBSTONE.length && bytes[0] == TOMBSTONE_MAGIC && bytes[1] == FORMAT
				&& idEnd(bytes) <= TOMBSTONE.length + 100;
	}

	/** Where the new id of a moved tombstone ends: at its record, or the end. */
	private static int idEnd(byte[] tombstone) {
		for (int i = TOMBSTONE.length; i < tombstone.length; i++) {
			if (tombstone[i] == 0) {
				return i;
			}
		}
		return tombstone.length;
	}

	/** The id a moved session's tombstone points at; {@code null} for a plain tombstone. */
	static String movedTo(byte[] tombstone) {
		int end = idEnd(tombstone);
		if (end == TOMBSTONE.length) {
			return null;
		}
		return new String(tombstone, TOMBSTONE.length, end - TOMBSTONE.length, StandardCharsets.US_ASCII);
	}

	/**
	 * The version of a stored data item, without decoding its attributes.
	 * @return the version, {@code Long.MAX_VALUE} for a tombstone (nothing may replace
	 * it), or -1 when the bytes are no data item of this format
	 */
	static long versionOf(byte[] bytes) {
		if (isTombstone(bytes)) {
			return Long.MAX_VALUE;
		}
		if (bytes.length < 27 || bytes[0] != DATA_MAGIC || bytes[1] != FORMAT) {
			return -1;
		}
		return ByteBuffer.wrap(bytes, 19, 8).getLong();
	}

	private static void writeAccess(DataOutputStream out, Access access) throws IOException {
		out.writeLong(access.lastAccessedTime().toEpochMilli());
		out.writeLong(access.slack().toMillis());
		out.writeLong(access.itemsExpireAt());
	}

	private static Access readAccess(ByteBuffer in) {
		Instant lastAccessedTime = Instant.ofEpochMilli(in.getLong());
		long slack = in.getLong();
		expect(slack >= 0, "negative slack");
		return new Access(lastAccessedTime, Duration.ofMillis(slack), in.getLong());
	}

	private static void expect(boolean condition, String problem) {
		if (!condition) {
			throw new CorruptSessionException(problem, null);
		}
	}

	/** Stored bytes that are not a session any server can read. */
	static class CorruptSessionException extends RuntimeException {

		CorruptSessionException(String message, Throwable cause) {
			super(message, cause);
		}

	}

	/** A session in a format version this server does not read; servers that do may. */
	static final class ForeignFormatException extends CorruptSessionException {

		ForeignFormatException(String message) {
			super(message, null);
		}

	}

}
