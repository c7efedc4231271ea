package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

import io.github.msm.session.SessionChanges.AccessChange;
import io.github.msm.session.SessionCodec.Data;

import org.jspecify.annotations.Nullable;

/**
 * A session as this server holds it: what memcached holds (with its CAS token, so
 * that the next write is one compare-and-set) and, when changes are queued, the
 * newer local state, with the deserialized values of its attributes
 * ({@link LiveValues}). Immutable but for those values; requests get their own
 * session objects from it.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class LocalCopy {

	final String id;

	final StoredSession written;

	final StoredSession local;

	final Instant lastAccessedTime;

	/** The deserialized values of the session, shared with its later copies. */
	final LiveValues live;

	/** When memcached was last seen to hold this copy's version (epoch millis). */
	private volatile long verifiedAt = Long.MIN_VALUE;

	LocalCopy(String id, StoredSession written, StoredSession local, Instant lastAccessedTime) {
		this(id, written, local, lastAccessedTime, new LiveValues());
	}

	LocalCopy(String id, StoredSession written, StoredSession local, Instant lastAccessedTime, LiveValues live) {
		this.id = id;
		this.written = written;
		this.local = local;
		this.lastAccessedTime = lastAccessedTime;
		this.live = live;
	}

	public String id() {
		return this.id;
	}

	/** The last access this server saw. */
	public Instant lastAccessedTime() {
		return this.lastAccessedTime;
	}

	public Duration maxInactiveInterval() {
		return this.local.data().maxInactiveInterval();
	}

	/** When the session expires here; {@code null} for never. */
	public @Nullable Instant expiresAt() {
		Duration interval = maxInactiveInterval();
		return SessionLifetime.neverExpires(interval) ? null : this.lastAccessedTime.plus(interval);
	}

	/**
	 * When this server last knew memcached to hold this copy's version (it wrote or
	 * read or checked it); {@link Long#MIN_VALUE} when not recorded.
	 */
	public long verifiedAt() {
		return this.verifiedAt;
	}

	/** Records that memcached was known to hold this copy's version at that time. */
	public LocalCopy verified(long epochMillis) {
		this.verifiedAt = epochMillis;
		return this;
	}

	/** Whether changes wait to be written. */
	public boolean isPending() {
		return this.local != this.written;
	}

	/** Whether this copy's local state is the one of {@code other} (nothing queued since). */
	public boolean hasSameStateAs(LocalCopy other) {
		return this.local == other.local;
	}

	/**
	 * Of two copies of one session saved by concurrent requests, the one to keep: the
	 * newer state, with the later access.
	 */
	public LocalCopy newest(LocalCopy other) {
		boolean otherNewer = other.local.version() > this.local.version()
				|| (other.local.version() == this.local.version() && other.written.version() > this.written.version());
		LocalCopy kept = otherNewer ? other : this;
		Instant access = this.lastAccessedTime.isAfter(other.lastAccessedTime) ? this.lastAccessedTime
				: other.lastAccessedTime;
		return access.equals(kept.lastAccessedTime) ? kept
				: new LocalCopy(kept.id, kept.written, kept.local, access, kept.live)
					.verified(Math.max(this.verifiedAt, other.verifiedAt));
	}

	/**
	 * What a write of all of this copy's queued changes stored, with this copy's access
	 * when it is later: the local version numbers of coalesced changes run ahead of the
	 * one version written, and the stored one (and its CAS token) is what counts.
	 */
	public LocalCopy writtenAs(LocalCopy stored) {
		Instant access = this.lastAccessedTime.isAfter(stored.lastAccessedTime) ? this.lastAccessedTime
				: stored.lastAccessedTime;
		return new LocalCopy(stored.id, stored.written, stored.written, access, stored.live)
			.verified(stored.verifiedAt);
	}

	/** This copy with what a later write stored, keeping the local state queued since. */
	public LocalCopy withWritten(LocalCopy stored) {
		return new LocalCopy(this.id, stored.written, this.local, this.lastAccessedTime, this.live)
			.verified(stored.verifiedAt);
	}

	/** This copy's local state as changes on top of what memcached holds (none when nothing is pending). */
	SessionChanges pendingChanges() {
		Data local = this.local.data();
		Data written = this.written.data();
		Map<String, byte[]> set = new LinkedHashMap<>();
		local.attributes().forEach((name, bytes) -> {
			if (!Arrays.equals(bytes, written.attributes().get(name))) {
				set.put(name, bytes);
			}
		});
		Set<String> removed = new LinkedHashSet<>(written.attributes().keySet());
		removed.removeAll(local.attributes().keySet());
		boolean intervalChanged = !local.maxInactiveInterval().equals(written.maxInactiveInterval());
		return new SessionChanges(this.id, this.id, this.written, written.creationTime(), Map.copyOf(set), Map.of(),
				Set.copyOf(removed), local.maxInactiveInterval(), intervalChanged, intervalChanged,
				new AccessChange(this.lastAccessedTime, true));
	}

}
