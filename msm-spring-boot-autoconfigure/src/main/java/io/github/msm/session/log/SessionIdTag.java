package io.github.msm.session.log;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.stream.Collectors;

import org.jspecify.annotations.Nullable;

/**
 * The tag that stands for a session id (or a memcached key holding one) in a log line.
 *
 * <p>
 * A session id is a bearer credential: whoever reads it from a log file can present it as
 * a cookie and act as that user. Log lines therefore carry {@code #} and the first 8 hex
 * digits of the id's SHA-256 instead: the same id always gives the same tag, so one
 * session can be followed through the log, while the 32 bits of a hash of a 128-bit
 * random id neither reveal it nor narrow down a guess. Tags of two ids may collide; they
 * identify a session in a log excerpt, not in the whole fleet.
 *
 * <p>
 * A memcached key is tagged as a whole ({@code key#…}), so its tag differs from the tag of
 * the session id it contains; lines that log keys are DEBUG lines about single operations.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class SessionIdTag {

	private static final int HEX_DIGITS = 8;

	private SessionIdTag() {
	}

	/**
	 * The tag of a session id, such as {@code #3fa2c91d}.
	 * @param sessionId the id, or {@code null}
	 * @return the tag, or {@code "#none"} for {@code null}
	 */
	public static String of(@Nullable String sessionId) {
		return (sessionId != null) ? "#" + hash(sessionId) : "#none";
	}

	/**
	 * The tags of several session ids, comma separated.
	 * @param sessionIds the ids
	 * @return their tags
	 */
	public static String of(Collection<String> sessionIds) {
		return sessionIds.stream().map(SessionIdTag::of).collect(Collectors.joining(", "));
	}

	/**
	 * The tag of a memcached key, such as {@code key#5b0e77a4}.
	 * @param key the key, or {@code null}
	 * @return the tag
	 */
	public static String ofKey(@Nullable String key) {
		return "key" + of(key);
	}

	private static String hash(String value) {
		try {
			byte[] digest = MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
			return HexFormat.of().formatHex(digest, 0, HEX_DIGITS / 2);
		}
		catch (NoSuchAlgorithmException ex) {
			// every Java platform has SHA-256
			throw new IllegalStateException(ex);
		}
	}

}
