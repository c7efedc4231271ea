package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import io.github.msm.session.SessionChanges.AccessChange;
import io.github.msm.session.SessionCodec.Access;
import org.jspecify.annotations.Nullable;

import org.springframework.session.Session;
import org.springframework.util.Assert;

/**
 * A session that records its own changes, so that a save writes only what a request
 * really changed.
 *
 * <p>
 * Attribute values stay serialized until the application reads them, so a request pays
 * only for the attributes it uses (a sticky server hands its requests the values it
 * keeps, {@link LiveValues}). Every attribute the application reads or sets is
 * serialized again at save and compared with the stored bytes (for one only read, in
 * the serializer's buffer, with no bytes allocated unless it changed): that catches in-place
 * mutation of a mutable value without {@code setAttribute} (msm's hash check,
 * spring-session #133) and skips writes of values set to what they already were (values
 * only read that cannot change in place, see {@link ImmutableValues}, are skipped). An
 * attribute this server cannot read is hidden from the application but kept as stored:
 * a server with another allow-list or an older version of a class must not delete what
 * other servers can read.
 *
 * <p>
 * Spring Session gives each request its own instance, but an async request (a
 * {@code Callable} or {@code DeferredResult} in Spring MVC) uses it on two threads at
 * once: Spring Session's filter saves it at the end of the first dispatch, on the
 * container thread, while the async work may already change it on another; the async
 * dispatch saves it again. So every method takes this session's monitor, and a save
 * forgets the changes it wrote only when nothing changed since its snapshot: a change
 * made while a save is under way is written by the next save, not marked as saved.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class MemcachedSession implements Session {

	private final SessionIdFormat idFormat;

	private final AttributeCodec codec;

	private final SessionLifetime lifetime;

	private String id;

	private @Nullable String storedId;

	private @Nullable StoredSession base;

	private final Instant creationTime;

	private Instant lastAccessedTime;

	private Duration accessSlack;

	private @Nullable AccessChange accessChange;

	private Duration maxInactiveInterval;

	private boolean maxInactiveIntervalChanged;

	private boolean maxInactiveIntervalSet;

	private boolean saveRefused;

	/** Whether the next save writes every attribute ({@code SaveMode.ALWAYS}). */
	private boolean allAttributesPending;

	private final Map<String, Attribute> attributes = new LinkedHashMap<>();

	private final Set<String> touched = new HashSet<>();

	private final Set<String> removed = new HashSet<>();

	private final Set<String> set = new HashSet<>();

	/** Counts the calls that change what the next save writes. */
	private long edits;

	/** {@link #edits} when the last snapshot was taken. */
	private long editsAtSnapshot;

	/** The id a save in progress moved the session to, else {@code null}. */
	private @Nullable String movedTo;

	/** A new session, not yet stored. */
	MemcachedSession(String id, Duration maxInactiveInterval, SessionIdFormat idFormat, AttributeCodec codec,
			SessionLifetime lifetime) {
		this.idFormat = idFormat;
		this.codec = codec;
		this.lifetime = lifetime;
		this.id = id;
		this.creationTime = lifetime.now();
		this.lastAccessedTime = this.creationTime;
		this.maxInactiveInterval = maxInactiveInterval;
		this.accessSlack = lifetime.slack(true, maxInactiveInterval);
		this.accessChange = new AccessChange(this.creationTime, true);
	}

	/** A session read from memcached. */
	MemcachedSession(String id, StoredSession stored, SessionIdFormat idFormat, AttributeCodec codec,
			SessionLifetime lifetime) {
		this.idFormat = idFormat;
		this.codec = codec;
		this.lifetime = lifetime;
		this.id = id;
		this.storedId = id;
		this.base = stored;
		this.creationTime = stored.data().creationTime();
		this.maxInactiveInterval = stored.data().maxInactiveInterval();
		this.lastAccessedTime = stored.access().lastAccessedTime();
		this.accessSlack = stored.access().slack();
		stored.data().attributes().forEach((name, bytes) -> this.attributes.put(name, new Attribute(bytes)));
		this.allAttributesPending = codec.policy().savesAllAttributes();
	}

	@Override
	public synchronized String getId() {
		return this.id;
	}

	@Override
	public synchronized String changeSessionId() {
		this.edits++;
		this.id = this.idFormat.changeId(this.id);
		return this.id;
	}

	@Override
	@SuppressWarnings("unchecked")
	public synchronized <T> @Nullable T getAttribute(String attributeName) {
		Attribute attribute = this.attributes.get(attributeName);
		if (attribute == null || attribute.unreadable) {
			return null;
		}
		if (!attribute.decoded) {
			Object value = this.codec.decode(this.id, attributeName, attribute.stored);
			if (value == null) {
				attribute.unreadable = true;
				return null;
			}
			attribute.value = value;
			attribute.decoded = true;
		}
		this.touched.add(attributeName);
		this.edits++; // read values are compared at save: one may be changed in place
		return (T) attribute.value;
	}

	@Override
	public synchronized Set<String> getAttributeNames() {
		Set<String> names = new HashSet<>();
		this.attributes.forEach((name, attribute) -> {
			if (!attribute.unreadable) {
				names.add(name);
			}
		});
		return names;
	}

	@Override
	public void setAttribute(String attributeName, @Nullable Object attributeValue) {
		Assert.notNull(attributeName, "attributeName must not be null");
		if (attributeValue == null) {
			removeAttribute(attributeName);
			return;
		}
		synchronized (this) {
			Attribute attribute = this.attributes.computeIfAbsent(attributeName, (name) -> new Attribute(null));
			attribute.value = attributeValue;
			attribute.decoded = true;
			attribute.unreadable = false;
			this.touched.add(attributeName);
			this.set.add(attributeName);
			this.removed.remove(attributeName);
			this.edits++;
		}
		if (this.codec.policy().isStored(attributeName)) {
			this.codec.changed(this); // outside the monitor: an immediate flush saves
		}
	}

	@Override
	public void removeAttribute(String attributeName) {
		boolean removedStored;
		synchronized (this) {
			Attribute attribute = this.attributes.remove(attributeName);
			this.touched.remove(attributeName);
			this.set.remove(attributeName);
			removedStored = attribute != null && attribute.stored != null;
			if (removedStored) {
				this.removed.add(attributeName);
			}
			this.edits++;
		}
		if (removedStored) {
			this.codec.changed(this);
		}
	}

	@Override
	public synchronized Instant getCreationTime() {
		return this.creationTime;
	}

	/**
	 * Spring Session's filter sets the current time on every request; such a "now" is
	 * written only when the stored expiry no longer covers it (see
	 * {@link SessionLifetime}). Any other time is written exactly as given.
	 */
	@Override
	public synchronized void setLastAccessedTime(Instant lastAccessedTime) {
		Assert.notNull(lastAccessedTime, "lastAccessedTime must not be null");
		this.edits++;
		boolean current = this.lifetime.isCurrent(lastAccessedTime);
		this.lastAccessedTime = lastAccessedTime;
		this.accessSlack = this.lifetime.slack(current, this.maxInactiveInterval);
		this.accessChange = new AccessChange(lastAccessedTime, current);
	}

	@Override
	public synchronized Instant getLastAccessedTime() {
		return this.lastAccessedTime;
	}

	@Override
	public void setMaxInactiveInterval(Duration interval) {
		Assert.notNull(interval, "interval must not be null");
		if (interval.abs().compareTo(SessionLifetime.MAX_INTERVAL) > 0) {
			interval = interval.isNegative() ? SessionLifetime.MAX_INTERVAL.negated() : SessionLifetime.MAX_INTERVAL;
		}
		boolean changed;
		synchronized (this) {
			this.maxInactiveIntervalSet = true;
			this.edits++;
			changed = !interval.equals(this.maxInactiveInterval);
			if (changed) {
				this.maxInactiveInterval = interval;
				this.maxInactiveIntervalChanged = true;
			}
		}
		if (changed) {
			this.codec.changed(this);
		}
	}

	@Override
	public synchronized Duration getMaxInactiveInterval() {
		return this.maxInactiveInterval;
	}

	/**
	 * Zero or negative intervals never expire, as the Servlet specification says for
	 * {@code HttpSession#setMaxInactiveInterval}. An access that was not written keeps the
	 * session alive for the write window (see {@link SessionLifetime}).
	 */
	@Override
	public synchronized boolean isExpired() {
		return this.lifetime.isExpired(this.maxInactiveInterval, new Access(this.lastAccessedTime, this.accessSlack, 0));
	}

	// What the repository needs to save -------------------------------------------------

	/** What this session was read as or last saved as, {@code null} when never stored. */
	synchronized @Nullable StoredSession base() {
		return this.base;
	}

	/**
	 * Gives the session another id that its next save moves it to, like
	 * {@link #changeSessionId()} but chosen by the caller: a sticky server taking over a
	 * session of another server keeps its base and node and puts its own route.
	 */
	synchronized void takeOver(String newId) {
		this.edits++;
		this.id = newId;
	}

	/**
	 * Shows the access this server saw last instead of the stored one: a sticky server
	 * writes accesses to memcached only now and then, but knows each one exactly.
	 */
	synchronized void localAccess(Instant lastAccessedTime) {
		this.lastAccessedTime = lastAccessedTime;
		this.accessSlack = Duration.ZERO;
	}

	/** Whether the access time to save was set explicitly, not as "now" (written exactly). */
	synchronized boolean hasExplicitAccess() {
		return this.accessChange != null && !this.accessChange.current();
	}

	/** The id this session is stored under, {@code null} when never stored. */
	synchronized @Nullable String storedId() {
		return this.storedId;
	}

	/**
	 * Takes the values a sticky server keeps of its held copy for the attributes whose
	 * stored bytes are the very ones the values belong to, so that reading them
	 * deserializes nothing.
	 */
	synchronized void adoptLive(LiveValues live) {
		this.attributes.forEach((name, attribute) -> {
			if (!attribute.decoded && attribute.stored != null) {
				Object value = live.valueOf(name, attribute.stored);
				if (value != null) {
					attribute.value = value;
					attribute.decoded = true;
				}
			}
		});
	}

	/**
	 * Hands the values this session read or wrote to the held copy's {@link LiveValues},
	 * each with the bytes it is stored as. Values set since the last save are left out:
	 * their bytes are not stored yet.
	 */
	synchronized void publishLive(LiveValues live) {
		this.attributes.forEach((name, attribute) -> {
			if (attribute.decoded && !attribute.unreadable && attribute.value != null && attribute.stored != null
					&& !this.set.contains(name)) {
				live.keep(name, attribute.stored, attribute.value);
			}
		});
		live.retainNames(this.attributes.keySet());
	}

	/** Whether this request set or removed the attribute since the last save. */
	synchronized boolean isChangedAttribute(String attributeName) {
		return this.set.contains(attributeName) || this.removed.contains(attributeName);
	}

	/**
	 * Takes the snapshot a save writes from. Serializes every attribute read or set (only
	 * those set, or all, as the {@link SessionSavePolicy} says), to find those whose bytes
	 * changed; values only read that cannot change in place ({@link ImmutableValues}) are
	 * not serialized again. Attributes the policy's filter excludes are left out.
	 */
	synchronized SessionChanges changes() {
		this.editsAtSnapshot = this.edits;
		SessionSavePolicy policy = this.codec.policy();
		boolean all = this.allAttributesPending;
		Map<String, byte[]> changed = new LinkedHashMap<>();
		Map<String, byte[]> reasserted = new LinkedHashMap<>();
		for (String name : all ? this.attributes.keySet() : this.touched) {
			Attribute attribute = this.attributes.get(name);
			if (attribute == null || !policy.isStored(name)
					|| (!policy.savesReadAttributes() && !this.set.contains(name))) {
				continue;
			}
			if (attribute.value == null) {
				if (all && attribute.stored != null) {
					changed.put(name, attribute.stored);
				}
				continue;
			}
			if (!all && attribute.stored != null && !this.set.contains(name)
					&& ImmutableValues.isImmutable(attribute.value)) {
				continue; // only read, and cannot have changed in place: its stored bytes stand
			}
			if (!this.codec.isStorableName(this.id, name)) {
				continue;
			}
			byte[] stored = attribute.stored;
			byte[] bytes = (!all && stored != null && !this.set.contains(name))
					? this.codec.encodeIfChanged(this.id, name, attribute.value, stored)
					: this.codec.encode(this.id, name, attribute.value);
			if (bytes == AttributeCodec.UNCHANGED) {
				continue; // only read, and still serializes to its stored bytes
			}
			if (bytes == null) {
				continue;
			}
			if (all || !Arrays.equals(bytes, attribute.stored)) {
				changed.put(name, bytes);
			}
			else if (this.set.contains(name)) {
				reasserted.put(name, bytes);
			}
		}
		return new SessionChanges(this.id, this.storedId, this.base, this.creationTime, Map.copyOf(changed),
				Map.copyOf(reasserted), Set.copyOf(this.removed), this.maxInactiveInterval,
				this.maxInactiveIntervalChanged,
				this.maxInactiveIntervalSet, this.accessChange);
	}

	/**
	 * Records what a save did, so that saving again without changes writes nothing. When
	 * the session changed since the snapshot (an async request's other thread), its
	 * changes stay pending: the next save applies them again on top of what this one
	 * stored, which writes the newer ones and repeats the others harmlessly.
	 * @param changes the snapshot that was saved
	 * @param stored what is stored now, or {@code null} when nothing was (the session was
	 * deleted or renamed meanwhile, or the write failed and was reported)
	 */
	synchronized void saved(SessionChanges changes, @Nullable StoredSession stored) {
		if (stored == null && this.base == null) {
			// a new session whose first save was refused: nothing is stored, so nothing may
			// be marked as stored; the next save tries again with every change
			this.saveRefused = true;
			return;
		}
		changes.setAttributes().forEach((name, bytes) -> {
			Attribute attribute = this.attributes.get(name);
			if (attribute != null) {
				attribute.stored = bytes;
			}
		});
		if (stored != null) {
			this.base = stored;
		}
		boolean editedSince = this.edits != this.editsAtSnapshot;
		this.storedId = (editedSince && stored != null) ? storedUnder(changes) : this.id;
		if (editedSince) {
			this.saveRefused = false;
			return;
		}
		this.touched.clear();
		this.set.clear();
		this.removed.clear();
		this.accessChange = null;
		this.maxInactiveIntervalChanged = false;
		this.maxInactiveIntervalSet = false;
		this.saveRefused = false;
		this.allAttributesPending = false;
	}

	/**
	 * Records a save that stored the session under another id, because its node went
	 * away: the browser is sent the new id.
	 */
	synchronized void movedTo(String newId, SessionChanges changes, @Nullable StoredSession stored) {
		if (stored != null) {
			this.id = newId;
			this.movedTo = newId;
		}
		try {
			saved(changes, stored);
		}
		finally {
			this.movedTo = null;
		}
	}

	/** Where the save of {@code changes} stored the session. */
	private String storedUnder(SessionChanges changes) {
		return (this.movedTo != null) ? this.movedTo : changes.id();
	}

	private static final class Attribute {

		byte @Nullable [] stored;

		@Nullable Object value;

		boolean decoded;

		boolean unreadable;

		Attribute(byte @Nullable [] stored) {
			this.stored = stored;
		}

	}

}
