package io.github.msm.session.index;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.UnaryOperator;

import io.github.msm.session.log.SessionIdTag;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeSelector;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.session.storage.StoredValue;
import io.github.msm.session.storage.WriteOutcome;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * The ids of each principal's sessions, one small memcached item per principal, so that
 * sessions can be found by user name.
 *
 * <p>
 * The item lives under {@code idx:<prefix><sha-256 of the name>}: principal names are
 * user input, and hashing keeps any name (spaces, control characters, any length) a valid
 * memcached key of fixed length that does not show the name. It is on one regular node
 * chosen from that hash, or, while that node is down, on the next node of the ring that is
 * up. Updates are compare-and-set, retried with back-off until a deadline, so that
 * concurrent logins of one user on many servers all land.
 *
 * <p>
 * The index is best effort, as any cache: the caller checks every id it lists (the
 * session may be gone, expired or belong to someone else by now) and prunes what is
 * stale. Its limits: memcached may evict the item (the user's sessions are then not found
 * by name until their next login); ids written while the item's node was down stay on the
 * other node and are not found once it is back; at most {@link #DEFAULT_MAX_SESSIONS} ids
 * are kept per principal, the oldest dropped first. An update that cannot be stored is
 * counted and logged at WARN, at most once a minute.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class PrincipalIndex {

	/** Ids kept per principal, at most; beyond that the oldest are dropped. */
	public static final int DEFAULT_MAX_SESSIONS = 1000;

	private static final String KEY_PREFIX = "idx:";

	private static final String HEADER = "msm-idx-1";

	/** How long an emptied item stays, so that a concurrent update can still compare-and-set it. */
	private static final int EMPTY_EXPIRATION_SECONDS = 3600;

	private static final long MAX_BACKOFF_NANOS = 16_000_000;

	private static final long WARN_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

	private static final Log logger = LogFactory.getLog(PrincipalIndex.class);

	private final MemcachedStore store;

	private final NodeSelector nodes;

	private final String keyPrefix;

	private final Duration deadline;

	private final Runnable writeFailed;

	private final int maxSessions;

	private final AtomicLong lastWarning = new AtomicLong(System.nanoTime() - WARN_INTERVAL_NANOS);

	/**
	 * Create an index.
	 * @param store the memcached access
	 * @param nodes the nodes and their availability
	 * @param keyPrefix the prefix of the store's keys
	 * @param deadline how long one update may retry conflicts
	 * @param writeFailed counts an update that could not be stored
	 */
	public PrincipalIndex(MemcachedStore store, NodeSelector nodes, String keyPrefix, Duration deadline,
			Runnable writeFailed) {
		this(store, nodes, keyPrefix, deadline, writeFailed, DEFAULT_MAX_SESSIONS);
	}

	PrincipalIndex(MemcachedStore store, NodeSelector nodes, String keyPrefix, Duration deadline, Runnable writeFailed,
			int maxSessions) {
		Assert.notNull(store, "store must not be null");
		Assert.notNull(nodes, "nodes must not be null");
		Assert.notNull(keyPrefix, "keyPrefix must not be null");
		this.store = store;
		this.nodes = nodes;
		this.keyPrefix = keyPrefix;
		this.deadline = deadline;
		this.writeFailed = writeFailed;
		this.maxSessions = maxSessions;
	}

	/**
	 * The session ids listed for a principal, oldest first.
	 * @param principal the principal name
	 * @return the ids; empty when none are listed or the index cannot be read
	 */
	public List<String> sessionIds(String principal) {
		MemcachedNode node = nodeFor(principal);
		if (node == null) {
			return List.of();
		}
		StoredValue value = this.store.get(node, key(principal));
		return (value != null) ? decode(value.bytes()) : List.of();
	}

	/**
	 * Lists a session for a principal.
	 * @param principal the principal name
	 * @param sessionId the session's id
	 * @param replacedId an id the session had before (a login changes it), removed in the
	 * same update; {@code null} if none
	 */
	public void add(String principal, String sessionId, @Nullable String replacedId) {
		update(principal, sessionId, (ids) -> {
			if (replacedId != null) {
				ids.remove(replacedId);
			}
			ids.remove(sessionId);
			ids.add(sessionId);
			return ids;
		});
	}

	/**
	 * Removes ids of sessions that are gone and renames ids of sessions that moved.
	 * @param principal the principal name
	 * @param removed ids to remove
	 * @param renamed new ids by old id
	 */
	public void prune(String principal, Collection<String> removed, Map<String, String> renamed) {
		if (removed.isEmpty() && renamed.isEmpty()) {
			return;
		}
		update(principal, String.join(" ", removed), (ids) -> {
			LinkedHashSet<String> next = new LinkedHashSet<>();
			for (String id : ids) {
				if (!removed.contains(id)) {
					next.add(renamed.getOrDefault(id, id));
				}
			}
			return next;
		});
	}

	private void update(String principal, String about, UnaryOperator<LinkedHashSet<String>> change) {
		MemcachedNode node = nodeFor(principal);
		if (node == null) {
			failed(about, null, "no node is up");
			return;
		}
		String key = key(principal);
		long deadline = System.nanoTime() + this.deadline.toNanos();
		for (int attempt = 0;; attempt++) {
			Map<String, StoredValue> read = this.store.readAll(node, List.of(key));
			if (read == null) {
				failed(about, node, "the node did not answer");
				return;
			}
			StoredValue current = read.get(key);
			List<String> before = (current != null) ? decode(current.bytes()) : List.of();
			LinkedHashSet<String> after = change.apply(new LinkedHashSet<>(before));
			if (after.equals(new LinkedHashSet<>(before)) && current != null) {
				return;
			}
			if (current == null && after.isEmpty()) {
				return;
			}
			byte[] bytes = encode(after);
			int expiration = after.isEmpty() ? EMPTY_EXPIRATION_SECONDS : 0;
			WriteOutcome outcome = (current != null) ? this.store.cas(node, key, current.cas(), expiration, bytes)
					: this.store.add(node, key, expiration, bytes);
			switch (outcome.result()) {
				case OK:
					return;
				case FAILED:
					failed(about, node, "the node did not store it");
					return;
				default:
					// another server updated the item (or it was evicted) meanwhile: again
			}
			if (!backOff(attempt, deadline)) {
				failed(about, node, "the item kept changing until the deadline");
				return;
			}
		}
	}

	private static boolean backOff(int attempt, long deadline) {
		long pause = ThreadLocalRandom.current().nextLong(Math.min(MAX_BACKOFF_NANOS, 250_000L << Math.min(attempt, 8)));
		if (System.nanoTime() + pause > deadline) {
			return false;
		}
		LockSupport.parkNanos(pause);
		return true;
	}

	private void failed(String about, @Nullable MemcachedNode node, String reason) {
		this.writeFailed.run();
		String message = "Principal index update (session " + SessionIdTag.of(List.of(about.split(" "))) + ") not stored on node " + node + ": " + reason
				+ "; lookups by user name may miss sessions or list stale ones until the next update";
		long now = System.nanoTime();
		long last = this.lastWarning.get();
		if (now - last >= WARN_INTERVAL_NANOS && this.lastWarning.compareAndSet(last, now)) {
			logger.warn(message + " (more such failures in the next minute are logged at DEBUG)");
		}
		else if (logger.isDebugEnabled()) {
			logger.debug(message);
		}
	}

	/**
	 * The node of a principal's item: a regular node chosen from the name's hash, or the
	 * next node up while it is down.
	 */
	@Nullable MemcachedNode nodeFor(String principal) {
		List<MemcachedNode> regular = new ArrayList<>();
		for (MemcachedNode node : this.nodes.ring().nodes()) {
			if (!this.nodes.ring().isFailoverNode(node)) {
				regular.add(node);
			}
		}
		List<MemcachedNode> candidates = regular.isEmpty() ? this.nodes.ring().nodes() : regular;
		byte[] hash = sha256(principal);
		int bucket = Math.floorMod(((hash[0] & 0xff) << 24) | ((hash[1] & 0xff) << 16) | ((hash[2] & 0xff) << 8)
				| (hash[3] & 0xff), candidates.size());
		MemcachedNode home = candidates.get(bucket);
		return this.nodes.isAvailable(home) ? home : this.nodes.relocationTarget(home);
	}

	/** The item's key: fixed length, and only hex digits after the store's prefix. */
	String key(String principal) {
		return KEY_PREFIX + this.keyPrefix + HexFormat.of().formatHex(sha256(principal));
	}

	private byte[] encode(Collection<String> ids) {
		List<String> kept = new ArrayList<>(ids);
		if (kept.size() > this.maxSessions) {
			kept = kept.subList(kept.size() - this.maxSessions, kept.size());
		}
		StringBuilder text = new StringBuilder(HEADER);
		kept.forEach((id) -> text.append('\n').append(id));
		return text.toString().getBytes(StandardCharsets.US_ASCII);
	}

	/**
	 * The ids in an item. Anyone who reaches memcached can write there, so anything that
	 * is not this format reads as empty, and only printable ids of sane length are kept;
	 * the repository checks each id's format before it looks it up.
	 */
	private List<String> decode(byte[] bytes) {
		String text = new String(bytes, StandardCharsets.US_ASCII);
		String[] lines = text.split("\n", this.maxSessions + 2);
		if (!HEADER.equals(lines[0])) {
			return List.of();
		}
		List<String> ids = new ArrayList<>(lines.length - 1);
		for (int i = 1; i < lines.length && ids.size() < this.maxSessions; i++) {
			String id = lines[i];
			if (!id.isEmpty() && id.length() <= 200 && id.chars().allMatch((c) -> c > 32 && c < 127)) {
				ids.add(id);
			}
		}
		return ids;
	}

	private static byte[] sha256(String principal) {
		try {
			return MessageDigest.getInstance("SHA-256").digest(principal.getBytes(StandardCharsets.UTF_8));
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException("SHA-256 is required of every Java platform", ex);
		}
	}

}
