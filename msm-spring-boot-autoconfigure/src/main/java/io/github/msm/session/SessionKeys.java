package io.github.msm.session;

import org.springframework.util.Assert;

/**
 * Memcached keys of a session, in msm's layout: the session data under
 * {@code <prefix><id>}, its access metadata under {@code validity:<prefix><id>}, and on
 * the backup node the same keys behind {@code bak:}.
 *
 * <p>
 * Only ids that passed {@link SessionIdFormat} reach this class, so keys never carry
 * spaces, control characters or more than 250 bytes.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class SessionKeys {

	private static final String VALIDITY = "validity:";

	private static final String BACKUP = "bak:";

	private static final String OUTAGE = "outage:";

	private static final String EXPIRED = "expired:";

	private final String prefix;

	SessionKeys(String prefix) {
		Assert.isTrue(prefix.length() <= 100 && prefix.chars().allMatch((c) -> c > 32 && c < 127),
				() -> "'" + prefix + "' must be printable ASCII without spaces, at most 100 characters");
		Assert.isTrue(!prefix.startsWith(BACKUP) && !prefix.startsWith(VALIDITY) && !prefix.startsWith("lock:")
				&& !prefix.startsWith("idx:") && !prefix.startsWith(OUTAGE) && !prefix.startsWith(EXPIRED),
				() -> "'" + prefix
						+ "' must not start with bak:, validity:, lock:, idx:, outage: or expired: (used by the store)");
		this.prefix = prefix;
	}

	String data(String id) {
		return this.prefix + id;
	}

	String validity(String id) {
		return VALIDITY + this.prefix + id;
	}

	/** The counter of a node's outages, kept on the other nodes (see {@code OutageEpochs}). */
	String outage(String nodeId) {
		return OUTAGE + this.prefix + nodeId;
	}

	/** The claim of a session's expiry event: one server of the fleet publishes it. */
	String expiredClaim(String id) {
		return EXPIRED + this.prefix + id;
	}

	static String backup(String key) {
		return BACKUP + key;
	}

}
