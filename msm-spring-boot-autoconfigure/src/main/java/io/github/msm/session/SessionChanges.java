package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.jspecify.annotations.Nullable;

/**
 * One immutable snapshot of what a request did to its session, taken at save: the
 * writer plans and performs the writes from this alone, and applies the same snapshot
 * again on top of a newer stored version when another request wrote in between.
 *
 * @param id the id the session has now
 * @param storedId the id it is stored under, {@code null} for a session never stored
 * @param base what the request read (or last wrote), {@code null} for a new session
 * @param creationTime when the session was created
 * @param setAttributes attributes whose serialized bytes differ from the stored ones
 * @param reassertedAttributes attributes the request set to the bytes it read: not a
 * change that needs a write, but applied over a newer version when the request writes
 * @param removedAttributes stored attributes the request removed
 * @param maxInactiveInterval the interval the request sees
 * @param maxInactiveIntervalChanged whether the request changed it
 * @param maxInactiveIntervalSet whether the request set it, maybe to the value it read:
 * applied over a newer version when the request writes
 * @param access the new access, {@code null} when unchanged
 * @author msm-spring-boot
 * @since 0.1.0
 */
record SessionChanges(String id, @Nullable String storedId, @Nullable StoredSession base, Instant creationTime,
		Map<String, byte[]> setAttributes, Map<String, byte[]> reassertedAttributes, Set<String> removedAttributes,
		Duration maxInactiveInterval, boolean maxInactiveIntervalChanged, boolean maxInactiveIntervalSet,
		@Nullable AccessChange access) {

	/** A snapshot of a session as stored, with no change. */
	static SessionChanges none(String id, StoredSession stored) {
		return new SessionChanges(id, id, stored, stored.data().creationTime(), Map.of(), Map.of(), Set.of(),
				stored.data().maxInactiveInterval(), false, false, null);
	}

	/**
	 * An access time set by the application.
	 * @param lastAccessedTime the time
	 * @param current whether it meant "now" (Spring Session's filter sets it so on every
	 * request), as opposed to a time set explicitly, which is written exactly as given
	 */
	record AccessChange(Instant lastAccessedTime, boolean current) {
	}

	boolean isNew() {
		return this.base == null || this.storedId == null;
	}

	boolean isRenamed() {
		return this.storedId != null && !this.id.equals(this.storedId);
	}

	/** Whether the data item must be written: new, renamed, attributes or interval changed. */
	boolean changesData() {
		return isNew() || isRenamed() || !this.setAttributes.isEmpty() || !this.removedAttributes.isEmpty()
				|| this.maxInactiveIntervalChanged;
	}

	/** Whether the request changed attributes or the interval (not only the access). */
	boolean hasEdits() {
		return !this.setAttributes.isEmpty() || !this.removedAttributes.isEmpty() || this.maxInactiveIntervalChanged;
	}

	/**
	 * The same changes made to a session that now lives under another id (its node went
	 * away): applied on top of {@link #base()}, stored under {@code newId}.
	 */
	SessionChanges movedTo(String newId) {
		return new SessionChanges(newId, newId, this.base, this.creationTime, this.setAttributes,
				this.reassertedAttributes, this.removedAttributes, this.maxInactiveInterval,
				this.maxInactiveIntervalChanged, this.maxInactiveIntervalSet, this.access);
	}

	/** The same changes, to be applied on top of another stored version. */
	SessionChanges withBase(StoredSession newBase) {
		return new SessionChanges(this.id, this.storedId, newBase, this.creationTime, this.setAttributes,
				this.reassertedAttributes, this.removedAttributes, this.maxInactiveInterval,
				this.maxInactiveIntervalChanged, this.maxInactiveIntervalSet, this.access);
	}

	/** What the change is about, for log lines about a change that could not be stored. */
	String describe() {
		Set<String> names = new TreeSet<>(this.setAttributes.keySet());
		names.addAll(this.removedAttributes);
		String what = names.isEmpty() ? "" : "attributes " + names;
		if (this.maxInactiveIntervalChanged) {
			what += (what.isEmpty() ? "" : ", ") + "max-inactive interval " + this.maxInactiveInterval;
		}
		if (isRenamed()) {
			what += (what.isEmpty() ? "" : ", ") + "id change from " + this.storedId;
		}
		return what.isEmpty() ? "access time" : what;
	}

}
