package io.github.msm.session;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;

import io.github.msm.session.log.SessionIdTag;

/**
 * The one write a backup lane still has to make for one key: a newer write of the same
 * key replaces it before it is sent (see {@link #merge}), so that a lane holds at most one
 * write per key however fast a session changes. It lives until its write is answered or
 * dropped, and then tells whoever waits for it.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class PendingBackup {

	/** What the write does to the key. */
	enum Kind {

		/** A data item, written only over an older version (never over a tombstone). */
		DATA,

		/** An item written whatever the key holds (a tombstone, a validity item). */
		SET,

		/** The key goes. */
		DELETE

	}

	private final String sessionId;

	private final String key;

	private final long since;

	private final CountDownLatch done = new CountDownLatch(1);

	private Kind kind;

	private long version;

	private long firstVersion;

	private int expiration;

	private byte @Nullable [] bytes;

	/**
	 * @param sessionId the session the key belongs to
	 * @param key the backup key
	 * @param kind what the write does
	 * @param version the version a data item holds; 0 otherwise
	 * @param expiration memcached expiration
	 * @param bytes the item; {@code null} for a delete
	 * @param since when the write was made ({@link System#nanoTime()})
	 */
	PendingBackup(String sessionId, String key, Kind kind, long version, int expiration, byte @Nullable [] bytes,
			long since) {
		this.sessionId = sessionId;
		this.key = key;
		this.kind = kind;
		this.version = version;
		this.firstVersion = version;
		this.expiration = expiration;
		this.bytes = bytes;
		this.since = since;
	}

	/**
	 * Takes a later write of the same key in, while this one is still unsent: an
	 * unconditional write (set, tombstone, delete) replaces whatever was pending, a data
	 * write replaces an older or equal version (the same version again renews the
	 * expiration) or a delete, and is refused over a newer version or a tombstone, as the
	 * backup node would refuse it. Guarded by the lane's lock.
	 * @return {@code false} when the later write was refused
	 */
	boolean merge(PendingBackup later) {
		if (later.kind == Kind.DATA) {
			if (this.kind == Kind.DATA && later.version < this.version) {
				return false;
			}
			if (isTombstone()) {
				return false;
			}
		}
		if (this.kind != Kind.DATA || later.kind != Kind.DATA) {
			this.firstVersion = later.firstVersion;
		}
		this.kind = later.kind;
		this.version = later.version;
		this.expiration = later.expiration;
		this.bytes = later.bytes;
		return true;
	}

	/**
	 * Whether the write takes a session away (a tombstone or a delete): dropping it would
	 * leave a logged-out session on the backup, where a failover would find it again.
	 */
	boolean isRemoval() {
		return this.kind == Kind.DELETE || isTombstone();
	}

	/** Whether the write puts a tombstone in place of a session (a logout, a rename). */
	boolean isTombstone() {
		return this.kind == Kind.SET && this.bytes != null && SessionCodec.isTombstone(this.bytes);
	}

	String sessionId() {
		return this.sessionId;
	}

	String key() {
		return this.key;
	}

	Kind kind() {
		return this.kind;
	}

	long version() {
		return this.version;
	}

	/**
	 * The oldest version this write carries: the version of the first data write merged
	 * into it. When this server wrote the version before it, nobody else wrote the
	 * session in between.
	 */
	long firstVersion() {
		return this.firstVersion;
	}

	int expiration() {
		return this.expiration;
	}

	byte @Nullable [] bytes() {
		return this.bytes;
	}

	/** When the oldest change this write carries was made ({@link System#nanoTime()}). */
	long since() {
		return this.since;
	}

	/** What the write is, for log lines. */
	String describe() {
		return switch (this.kind) {
			case DATA -> "data of session " + SessionIdTag.of(this.sessionId);
			case SET -> (isTombstone() ? "tombstone of session " : "item of session ")
					+ SessionIdTag.of(this.sessionId);
			case DELETE -> "delete of session " + SessionIdTag.of(this.sessionId);
		};
	}

	/** The write was answered or dropped: whoever waits for it goes on. */
	void finished() {
		this.done.countDown();
	}

	boolean isFinished() {
		return this.done.getCount() == 0;
	}

	/**
	 * Waits until the write was answered or dropped.
	 * @return {@code false} when the time ran out first
	 */
	boolean await(long nanos) {
		try {
			return this.done.await(nanos, TimeUnit.NANOSECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
	}

}
