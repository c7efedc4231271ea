package io.github.msm.session.storage;

import org.jspecify.annotations.Nullable;

/**
 * One write of a pipelined batch (see {@link MemcachedStore#writeAll}): the batch sends
 * every write before it waits for the first answer, so that a batch costs one round trip
 * however many writes it holds.
 *
 * @param kind what the write does
 * @param key the key
 * @param cas the CAS token a {@link Kind#CAS} compares with; 0 otherwise
 * @param expiration memcached expiration (unused by {@link Kind#DELETE})
 * @param bytes the value; {@code null} for {@link Kind#DELETE}
 * @author msm-spring-boot
 * @since 0.1.0
 */
public record PipelinedWrite(Kind kind, String key, long cas, int expiration, byte @Nullable [] bytes) {

	/** A compare-and-set: written only if the item still has this CAS token. */
	public static PipelinedWrite cas(String key, long cas, int expiration, byte[] bytes) {
		return new PipelinedWrite(Kind.CAS, key, cas, expiration, bytes);
	}

	/** Written only if the key is absent. */
	public static PipelinedWrite add(String key, int expiration, byte[] bytes) {
		return new PipelinedWrite(Kind.ADD, key, 0, expiration, bytes);
	}

	/** Written whatever the key holds. */
	public static PipelinedWrite set(String key, int expiration, byte[] bytes) {
		return new PipelinedWrite(Kind.SET, key, 0, expiration, bytes);
	}

	/** Removes the key; a key already gone counts as deleted. */
	public static PipelinedWrite delete(String key) {
		return new PipelinedWrite(Kind.DELETE, key, 0, 0, null);
	}

	/** What a pipelined write does. */
	public enum Kind {

		/** {@code cas}: {@code CONFLICT} when the item changed, {@code NOT_FOUND} when it is gone. */
		CAS,

		/** {@code add}: {@code CONFLICT} when the key exists. */
		ADD,

		/** {@code set}. */
		SET,

		/** {@code delete}. */
		DELETE

	}

}
