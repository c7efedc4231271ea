package io.github.msm.session;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.jspecify.annotations.Nullable;

/**
 * The deserialized attribute values of a session a sticky server holds, so that a request
 * served from the held copy reads the values themselves instead of deserializing the
 * copy's bytes again (three quarters of a sticky request's time went there).
 *
 * <p>
 * Each value is kept with the exact bytes ({@code byte[]} identity, not equality) it was
 * read from or last written as, and a request gets it only while the held copy still has
 * those very bytes for the attribute. Whatever path made the held copy (a save of
 * another request, a write back, a check against memcached), a value that does not
 * belong to its bytes is therefore never served: the request deserializes the bytes as
 * before. Requests of one session share the values, as with in-memory sessions and
 * servlet containers: a value changed in place is seen by the session's other requests
 * on this server, and stored when a save finds its bytes changed.
 *
 * <p>
 * Thread-safe; shared by the successive held copies of one session.
 *
 * @author msm-spring-boot
 * @since 0.2.0
 */
final class LiveValues {

	private final Map<String, Decoded> values = new ConcurrentHashMap<>();

	/**
	 * The value read from or written as exactly these bytes; {@code null} when none is
	 * kept for them.
	 */
	@Nullable Object valueOf(String name, byte[] bytes) {
		Decoded decoded = this.values.get(name);
		return (decoded != null && decoded.bytes == bytes) ? decoded.value : null;
	}

	/** Keeps a value with the bytes it was read from or written as. */
	void keep(String name, byte[] bytes, Object value) {
		this.values.put(name, new Decoded(bytes, value));
	}

	/** Forgets the values of attributes the session no longer has. */
	void retainNames(Set<String> names) {
		this.values.keySet().retainAll(names);
	}

	/** How many values are kept (for tests). */
	int size() {
		return this.values.size();
	}

	private record Decoded(byte[] bytes, Object value) {
	}

}
