package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.jspecify.annotations.Nullable;

import org.springframework.session.Session;
import org.springframework.util.Assert;

/**
 * A session that records its own changes, so that a save writes only what a request
 * really changed.
 *
 * <p>
 * Attribute values stay serialized until the application reads them, so a request pays
 * only for the attributes it uses and an unreadable attribute costs only itself. Every
 * attribute the application reads or sets is serialized again at save and compared with
 * the stored bytes: that catches in-place mutation of a mutable value without
 * {@code setAttribute} (msm's hash check, spring-session #133) and skips writes of values
 * set to what they already were.
 *
 * <p>
 * Not thread-safe: Spring Session gives each request its own instance.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class MemcachedSession implements Session {

	private final SessionIdFormat idFormat;

	private final AttributeCodec codec;

	private String id;

	private @Nullable String storedId;

	private final Instant creationTime;

	private Instant lastAccessedTime;

	private Duration maxInactiveInterval;

	private long dataExpiresAt;

	private long cas;

	private final Map<String, Attribute> attributes = new LinkedHashMap<>();

	private final Set<String> touched = new HashSet<>();

	private final Set<String> removed = new HashSet<>();

	private boolean lastAccessedTimeChanged;

	private boolean maxInactiveIntervalChanged;

	/** A new session, not yet stored. */
	MemcachedSession(String id, Duration maxInactiveInterval, SessionIdFormat idFormat, AttributeCodec codec) {
		this.idFormat = idFormat;
		this.codec = codec;
		this.id = id;
		this.creationTime = Instant.now();
		this.lastAccessedTime = this.creationTime;
		this.maxInactiveInterval = maxInactiveInterval;
	}

	/** A session read from memcached. */
	MemcachedSession(String id, SessionCodec.Times times, Map<String, byte[]> storedAttributes, long cas,
			SessionIdFormat idFormat, AttributeCodec codec) {
		this.idFormat = idFormat;
		this.codec = codec;
		this.id = id;
		this.storedId = id;
		this.creationTime = times.creationTime();
		this.lastAccessedTime = times.lastAccessedTime();
		this.maxInactiveInterval = times.maxInactiveInterval();
		this.dataExpiresAt = times.dataExpiresAt();
		this.cas = cas;
		storedAttributes.forEach((name, bytes) -> this.attributes.put(name, new Attribute(bytes)));
	}

	@Override
	public String getId() {
		return this.id;
	}

	@Override
	public String changeSessionId() {
		this.id = this.idFormat.changeId(this.id);
		return this.id;
	}

	@Override
	@SuppressWarnings("unchecked")
	public <T> @Nullable T getAttribute(String attributeName) {
		Attribute attribute = this.attributes.get(attributeName);
		if (attribute == null) {
			return null;
		}
		if (!attribute.decoded) {
			Object value = this.codec.decode(this.id, attributeName, attribute.stored);
			if (value == null) {
				this.attributes.remove(attributeName);
				this.removed.add(attributeName);
				return null;
			}
			attribute.value = value;
			attribute.decoded = true;
		}
		this.touched.add(attributeName);
		return (T) attribute.value;
	}

	@Override
	public Set<String> getAttributeNames() {
		return new HashSet<>(this.attributes.keySet());
	}

	@Override
	public void setAttribute(String attributeName, @Nullable Object attributeValue) {
		Assert.notNull(attributeName, "attributeName must not be null");
		if (attributeValue == null) {
			removeAttribute(attributeName);
			return;
		}
		Attribute attribute = this.attributes.computeIfAbsent(attributeName, (name) -> new Attribute(null));
		attribute.value = attributeValue;
		attribute.decoded = true;
		this.touched.add(attributeName);
		this.removed.remove(attributeName);
	}

	@Override
	public void removeAttribute(String attributeName) {
		Attribute attribute = this.attributes.remove(attributeName);
		this.touched.remove(attributeName);
		if (attribute != null && attribute.stored != null) {
			this.removed.add(attributeName);
		}
	}

	@Override
	public Instant getCreationTime() {
		return this.creationTime;
	}

	@Override
	public void setLastAccessedTime(Instant lastAccessedTime) {
		Assert.notNull(lastAccessedTime, "lastAccessedTime must not be null");
		if (!lastAccessedTime.equals(this.lastAccessedTime)) {
			this.lastAccessedTime = lastAccessedTime;
			this.lastAccessedTimeChanged = true;
		}
	}

	@Override
	public Instant getLastAccessedTime() {
		return this.lastAccessedTime;
	}

	@Override
	public void setMaxInactiveInterval(Duration interval) {
		Assert.notNull(interval, "interval must not be null");
		if (!interval.equals(this.maxInactiveInterval)) {
			this.maxInactiveInterval = interval;
			this.maxInactiveIntervalChanged = true;
		}
	}

	@Override
	public Duration getMaxInactiveInterval() {
		return this.maxInactiveInterval;
	}

	/**
	 * Zero or negative intervals never expire, as the Servlet specification says for
	 * {@code HttpSession#setMaxInactiveInterval}. The boundary instant counts as expired,
	 * as in {@code MapSession}.
	 */
	@Override
	public boolean isExpired() {
		return isExpired(Instant.now());
	}

	boolean isExpired(Instant now) {
		if (neverExpires()) {
			return false;
		}
		return !now.minus(this.maxInactiveInterval).isBefore(this.lastAccessedTime);
	}

	boolean neverExpires() {
		return this.maxInactiveInterval.isZero() || this.maxInactiveInterval.isNegative();
	}

	// What the repository needs to save -------------------------------------------------

	/** Whether this session was ever stored (under {@link #storedId()}). */
	boolean isNew() {
		return this.storedId == null;
	}

	@Nullable String storedId() {
		return this.storedId;
	}

	long cas() {
		return this.cas;
	}

	long dataExpiresAt() {
		return this.dataExpiresAt;
	}

	boolean isLastAccessedTimeChanged() {
		return this.lastAccessedTimeChanged;
	}

	boolean isMaxInactiveIntervalChanged() {
		return this.maxInactiveIntervalChanged;
	}

	Set<String> removedAttributes() {
		return this.removed;
	}

	/**
	 * The attributes whose serialized bytes differ from what is stored: those set, and
	 * those read and then mutated in place.
	 * @return new bytes by attribute name
	 */
	Map<String, byte[]> changedAttributes() {
		Map<String, byte[]> changed = new LinkedHashMap<>();
		for (String name : this.touched) {
			Attribute attribute = this.attributes.get(name);
			if (attribute == null || attribute.value == null) {
				continue;
			}
			byte[] bytes = this.codec.encode(this.id, name, attribute.value);
			if (bytes != null && !Arrays.equals(bytes, attribute.stored)) {
				changed.put(name, bytes);
			}
		}
		return changed;
	}

	/**
	 * Every attribute as it should be stored: changed bytes where given, else the stored
	 * bytes, else freshly serialized (attributes that cannot be serialized are left out).
	 */
	Map<String, byte[]> allAttributes(Map<String, byte[]> changed) {
		Map<String, byte[]> all = new LinkedHashMap<>();
		for (Map.Entry<String, Attribute> entry : this.attributes.entrySet()) {
			String name = entry.getKey();
			byte[] bytes = changed.get(name);
			if (bytes == null) {
				bytes = entry.getValue().stored;
			}
			if (bytes == null && entry.getValue().value != null) {
				bytes = this.codec.encode(this.id, name, entry.getValue().value);
			}
			if (bytes != null) {
				all.put(name, bytes);
			}
		}
		return all;
	}

	SessionCodec.Times times(long dataExpiresAt) {
		return new SessionCodec.Times(this.creationTime, this.lastAccessedTime, this.maxInactiveInterval,
				dataExpiresAt);
	}

	/**
	 * Records a successful write, so that saving again without changes writes nothing.
	 * @param written the attribute bytes now stored
	 * @param dataExpiresAt when the data item now expires
	 * @param casAfterWrite the CAS token of the stored data, or 0 when unknown
	 */
	void markSaved(Map<String, byte[]> written, long dataExpiresAt, long casAfterWrite) {
		written.forEach((name, bytes) -> {
			Attribute attribute = this.attributes.get(name);
			if (attribute != null) {
				attribute.stored = bytes;
			}
		});
		this.storedId = this.id;
		this.dataExpiresAt = dataExpiresAt;
		this.cas = casAfterWrite;
		this.touched.clear();
		this.removed.clear();
		this.lastAccessedTimeChanged = false;
		this.maxInactiveIntervalChanged = false;
	}

	/** Records a write of the access metadata only. */
	void markAccessSaved(long dataExpiresAt) {
		this.dataExpiresAt = dataExpiresAt;
		this.lastAccessedTimeChanged = false;
	}

	private static final class Attribute {

		byte @Nullable [] stored;

		@Nullable Object value;

		boolean decoded;

		Attribute(byte @Nullable [] stored) {
			this.stored = stored;
		}

	}

}
