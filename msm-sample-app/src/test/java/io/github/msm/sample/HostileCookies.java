package io.github.msm.sample;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Generated {@code SESSION} cookie values that an attacker or a broken client may send:
 * raw header bytes, so that CR/LF, NUL and non-ASCII reach the server as they are.
 * Deterministic for a seed, so that a failure can be replayed.
 */
final class HostileCookies {

	/** What a value tries; {@link #values(int)} generates each kind in turn. */
	enum Kind {

		/** CR and LF: header and memcached command injection. */
		CR_LF,

		/** Spaces and tabs inside and around an id. */
		SPACES,

		/** NUL and other control characters. */
		CONTROL,

		/** 251 to 8,000 bytes: over memcached's 250-byte key limit. */
		LONG,

		/** Non-ASCII, homoglyphs of hex digits, emoji. */
		UNICODE,

		/** %-encoded ids and commands. */
		PERCENT,

		/** The right format with a node that does not exist. */
		UNKNOWN_NODE,

		/** Ids of another application on the same memcached, with and without its prefix, and our own key names. */
		OTHER_APP,

		/** memcached commands, alone and after an id. */
		MEMCACHED_COMMAND,

		/** The right format on a real node, but no such session. */
		VALID_FORMAT,

		/** A valid id with random bytes replaced, inserted or removed. */
		MUTATED,

		/** Quotes, semicolons, a second SESSION cookie, Base64. */
		COOKIE_SYNTAX

	}

	private static final String[] COMMANDS = { "flush_all", "flush_all 0", "flush_all noreply", "delete x",
			"delete x noreply", "\r\nset", "set x 0 0 1\r\nx", "get x", "gets x y z", "stats", "stats cachedump 1 0",
			"stats detail on", "lru_crawler metadump all", "shutdown", "verbosity 1", "cas x 0 0 1 1", "incr x 1",
			"touch x 0", "mn", "me x", "ms x 2", "mg x v", "md x", "version", "quit", "slabs reassign 1 2",
			"lru_crawler crawl all" };

	private final Random random;

	private final List<String> otherAppIds;

	private final String otherAppPrefix;

	private final String ourPrefix;

	/**
	 * @param seed the seed of the generator
	 * @param otherAppIds ids of sessions another application keeps on the same nodes
	 * @param otherAppPrefix that application's key prefix
	 * @param ourPrefix the key prefix of the application under test
	 */
	HostileCookies(long seed, List<String> otherAppIds, String otherAppPrefix, String ourPrefix) {
		this.random = new Random(seed);
		this.otherAppIds = otherAppIds;
		this.otherAppPrefix = otherAppPrefix;
		this.ourPrefix = ourPrefix;
	}

	/** A cookie value and what it tries. */
	record Value(Kind kind, byte[] bytes) {

		@Override
		public String toString() {
			return this.kind + " " + new String(this.bytes, StandardCharsets.ISO_8859_1).replace("\r", "\\r")
				.replace("\n", "\\n")
				.replace("\0", "\\0");
		}

	}

	/** {@code count} values, the kinds taking turns. */
	List<Value> values(int count) {
		Kind[] kinds = Kind.values();
		List<Value> values = new ArrayList<>(count);
		for (int i = 0; i < count; i++) {
			Kind kind = kinds[i % kinds.length];
			values.add(new Value(kind, next(kind)));
		}
		return values;
	}

	private byte[] next(Kind kind) {
		return switch (kind) {
			case CR_LF -> ascii(pick(() -> validId() + "\r\nflush_all", () -> validId() + "\r\nset x 0 0 1\r\nx",
					() -> validId() + "\r\n\r\nGET / HTTP/1.1", () -> validId() + "\nflush_all",
					() -> validId() + "\rdelete x", () -> insertAt(validId(), pickOf("\r", "\n", "\r\n")),
					() -> validId() + "\r\nCookie: SESSION=" + validId()));
			case SPACES -> ascii(pick(() -> " " + validId(), () -> validId() + " ", () -> insertAt(validId(), " "),
					() -> insertAt(validId(), "\t"), () -> validId() + " " + validId(), () -> " ",
					() -> validId().replace("-", " -")));
			case CONTROL -> {
				byte[] bytes = ascii(validId());
				int position = this.random.nextInt(bytes.length + 1);
				byte control = (byte) pickOf(0, 0, 1, 7, 8, 11, 12, 27, 31, 127).intValue();
				yield insert(bytes, position, new byte[] { control });
			}
			case LONG -> ascii(pick(() -> hex(251 + this.random.nextInt(8000 - 251)), () -> validId().repeat(8),
					() -> hex(32) + "-n1".repeat(100), () -> hex(32) + "-" + "n".repeat(300),
					() -> this.ourPrefix.repeat(30) + validId()));
			case UNICODE -> utf8(pick(() -> validId().replace('a', 'а'), // Cyrillic a
					() -> validId().replace('0', '０'), // fullwidth zero
					() -> validId() + "\u202e", () -> "\ud83c\udf6a" + validId(), () -> randomUnicode(1 + this.random.nextInt(60)),
					() -> validId().replace("-n", "\u2010n"), () -> validId() + "\u0000\u00ff"));
			case PERCENT -> ascii(pick(() -> percentEncode(validId()), () -> validId() + "%0d%0aflush_all",
					() -> validId() + "%00", () -> validId().replace("-", "%2d"), () -> "%25" + validId(),
					() -> validId() + "%20delete%20x", () -> percentEncode(percentEncode(validId()))));
			case UNKNOWN_NODE -> ascii(hex(32) + pickOf("-n99", "-n3", "-n0", "-N1", "-n", "-", "-n1-n1", "-n01",
					"-" + alphanumeric(1 + this.random.nextInt(40)), "-n1_", "-bak", "-validity"));
			case OTHER_APP -> {
				String id = this.otherAppIds.get(this.random.nextInt(this.otherAppIds.size()));
				yield ascii(pickOf(id, this.otherAppPrefix + id, "bak:" + this.otherAppPrefix + id, "validity:" + id,
						"bak:" + id, this.ourPrefix + id, "bak:" + this.ourPrefix + validId(),
						"validity:" + this.ourPrefix + validId(), "lock:" + validId(), "../" + id));
			}
			case MEMCACHED_COMMAND -> {
				String command = COMMANDS[this.random.nextInt(COMMANDS.length)];
				yield ascii(pickOf(command, validId() + " " + command, validId() + "\r\n" + command,
						command + "\r\n", "\r\n" + command + "\r\n"));
			}
			case VALID_FORMAT -> ascii(validId());
			case MUTATED -> {
				byte[] bytes = ascii(validId());
				int mutations = 1 + this.random.nextInt(4);
				for (int i = 0; i < mutations; i++) {
					bytes = mutate(bytes);
				}
				yield bytes;
			}
			case COOKIE_SYNTAX -> ascii(pick(() -> "\"" + validId() + "\"", () -> validId() + "; SESSION=" + validId(),
					() -> validId() + ";", () -> "; SESSION=" + validId(), () -> validId() + ",SESSION=" + validId(),
					() -> Base64.getEncoder().encodeToString(ascii(validId())), () -> "", () -> "=" + validId(),
					() -> validId() + "=", () -> validId() + "; JSESSIONID=" + validId()));
		};
	}

	private String validId() {
		return hex(32) + pickOf("-n1", "-n2");
	}

	private String hex(int length) {
		byte[] bytes = new byte[(length + 1) / 2];
		this.random.nextBytes(bytes);
		return HexFormat.of().formatHex(bytes).substring(0, length);
	}

	private String alphanumeric(int length) {
		String chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
		StringBuilder value = new StringBuilder();
		for (int i = 0; i < length; i++) {
			value.append(chars.charAt(this.random.nextInt(chars.length())));
		}
		return value.toString();
	}

	private String randomUnicode(int length) {
		StringBuilder value = new StringBuilder();
		while (value.length() < length) {
			int codePoint = this.random.nextInt(0x1FFFF) + 0x80;
			if (Character.isDefined(codePoint) && !Character.isSurrogate((char) codePoint)) {
				value.appendCodePoint(codePoint);
			}
		}
		return value.toString();
	}

	private static String percentEncode(String value) {
		StringBuilder encoded = new StringBuilder();
		for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
			encoded.append('%').append(HexFormat.of().withUpperCase().toHexDigits(b));
		}
		return encoded.toString();
	}

	private String insertAt(String value, String inserted) {
		int position = this.random.nextInt(value.length() + 1);
		return value.substring(0, position) + inserted + value.substring(position);
	}

	private byte[] mutate(byte[] bytes) {
		int operation = this.random.nextInt(3);
		if (operation == 0 || bytes.length == 0) {
			return insert(bytes, this.random.nextInt(bytes.length + 1), new byte[] { (byte) this.random.nextInt(256) });
		}
		int position = this.random.nextInt(bytes.length);
		if (operation == 1) {
			byte[] replaced = bytes.clone();
			replaced[position] = (byte) this.random.nextInt(256);
			return replaced;
		}
		byte[] removed = new byte[bytes.length - 1];
		System.arraycopy(bytes, 0, removed, 0, position);
		System.arraycopy(bytes, position + 1, removed, position, bytes.length - position - 1);
		return removed;
	}

	private static byte[] insert(byte[] bytes, int position, byte[] inserted) {
		byte[] result = new byte[bytes.length + inserted.length];
		System.arraycopy(bytes, 0, result, 0, position);
		System.arraycopy(inserted, 0, result, position, inserted.length);
		System.arraycopy(bytes, position, result, position + inserted.length, bytes.length - position);
		return result;
	}

	@SafeVarargs
	private String pick(Supplier<String>... choices) {
		return choices[this.random.nextInt(choices.length)].get();
	}

	@SafeVarargs
	private <T> T pickOf(T... choices) {
		return choices[this.random.nextInt(choices.length)];
	}

	private static byte[] ascii(String value) {
		return value.getBytes(StandardCharsets.ISO_8859_1);
	}

	private static byte[] utf8(String value) {
		return value.getBytes(StandardCharsets.UTF_8);
	}

}
