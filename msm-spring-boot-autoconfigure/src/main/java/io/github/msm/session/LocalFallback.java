package io.github.msm.session;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeSelector;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.jspecify.annotations.Nullable;

/**
 * Keeps requests working while no memcached node is up: sessions are saved to this
 * server's memory ({@link LocalSessions}) and moved to a node at their first access once
 * one is up again (msm #49).
 *
 * <p>
 * A request for a stored session whose node is down, with no copy on a node that
 * answers, cannot read it. It gets a <em>stand-in</em>: an empty session under the same
 * id, kept here, so the browser keeps its cookie. Once the session's node answers again, the stored session is served again
 * with the attributes the stand-in was given during the outage added; those it also has
 * keep their stored values (the stand-in's were blind writes), counted and logged. A login
 * during the outage retires the pre-login id (tombstones, written when its node answers).
 * Only ids this server served lately, and not logged out, get a stand-in: an id made up
 * by a client is never adopted.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class LocalFallback {

	static final int SERVED_IDS = 100_000;

	private final LocalSessions local;

	private final SessionWriter writer;

	private final SessionRemover remover;

	private final NodeSelector nodes;

	private final SessionIdFormat idFormat;

	private final AttributeCodec codec;

	private final SessionLifetime lifetime;

	private final boolean idsCarryNode;

	private final Duration defaultInterval;

	/**
	 * Id bases of sessions this server served lately: the only ones that get a stand-in.
	 * The base, because a session keeps it when it moves to another node (as while the
	 * nodes go down or come back one after the other) and another server may have moved it.
	 * The value is when the base was last put ({@link System#nanoTime()}): a read puts it
	 * again only when that is older than {@link #servedRefreshNanos}, since a put on every
	 * read was a noticeable part of a read's CPU; entries live that much longer to make up.
	 */
	private final Cache<String, Long> served;

	private final long servedRefreshNanos;

	LocalFallback(LocalSessions local, SessionWriter writer, SessionRemover remover, NodeSelector nodes,
			SessionIdFormat idFormat, AttributeCodec codec, SessionLifetime lifetime, Duration defaultInterval) {
		this.defaultInterval = defaultInterval;
		Duration remembered = (defaultInterval.isZero() || defaultInterval.isNegative()
				|| defaultInterval.compareTo(Duration.ofDays(1)) > 0) ? Duration.ofDays(1) : defaultInterval;
		this.servedRefreshNanos = remembered.toNanos() / 8;
		this.served = Caffeine.newBuilder()
			.maximumSize(SERVED_IDS)
			.expireAfterWrite(remembered.plusNanos(this.servedRefreshNanos))
			.build();
		this.local = local;
		this.writer = writer;
		this.remover = remover;
		this.nodes = nodes;
		this.idFormat = idFormat;
		this.codec = codec;
		this.lifetime = lifetime;
		this.idsCarryNode = nodes.ring().isNodeIdInSessionId();
	}

	/**
	 * No node is up: the session is kept in this server's memory under its id until one
	 * is. A session read from memcached keeps the version it was read as, so that its
	 * changes are written over that version once its node answers.
	 */
	void save(MemcachedSession session, SessionChanges changes) {
		String id = session.getId();
		StoredSession base = changes.base();
		if (this.idsCarryNode && base != null && base.cas() != 0 && !this.idFormat.isLocal(id)) {
			this.local.basedOn(id, base.data().attributes());
		}
		session.movedTo(id, changes, this.local.save(changes.movedTo(id), this.writer.planner()));
		String storedId = changes.storedId();
		if (storedId != null && !storedId.equals(id)) {
			MemcachedNode storedNode = this.idFormat.nodeOf(storedId);
			if (storedNode != null) {
				// a login: the pre-login id must not come back when its node does
				this.remover.moved(storedId, null, storedNode, changes.maxInactiveInterval(), null);
			}
			this.local.remove(storedId);
		}
	}

	/**
	 * Whether the session was read from here (a stand-in, or a session saved here while no
	 * node was up), not from memcached: its changes stay here until its node answers.
	 */
	boolean holds(SessionChanges changes) {
		StoredSession base = changes.base();
		return this.idsCarryNode && base != null && base.cas() == 0 && changes.storedId() != null
				&& !this.idFormat.isLocal(changes.storedId()) && this.local.size() > 0
				&& this.local.find(changes.storedId()) != null;
	}

	/**
	 * What a request for a session on a node gets, given what memcached gave: the
	 * session itself, with a stand-in's changes written over it once it can be read; a
	 * stand-in while no node is up; or {@code null}.
	 * @param id the requested id
	 * @param node the node the id names
	 * @param found what was read from memcached (after failover), {@code null} if nothing
	 * @return the session for the request
	 */
	@Nullable MemcachedSession reattach(String id, MemcachedNode node, @Nullable MemcachedSession found) {
		if (!this.idsCarryNode) {
			return found;
		}
		StoredSession kept = (this.local.size() > 0) ? this.local.find(id) : null;
		if (kept == null) {
			if (found != null) {
				markServed(found.getId());
				return found;
			}
			// its node is down and no other node had a copy to serve (all of them may be
			// down, or just going down one after the other): the session may well be there
			boolean standIn = !this.nodes.isAvailable(node) && this.served.getIfPresent(base(id)) != null;
			return standIn ? newStandIn(id) : null;
		}
		if (this.lifetime.isExpired(kept.data().maxInactiveInterval(), kept.access())) {
			this.local.remove(id);
			return found;
		}
		if (found != null) {
			return mergeInto(found, id, kept);
		}
		if (!this.nodes.isAvailable(node)) {
			// the stored session may still be there: wait for its node
			return new MemcachedSession(id, kept, this.idFormat, this.codec, this.lifetime);
		}
		// its node answers and has no session (it restarted empty with no backup, expired
		// or was evicted there, or it is the new id of a login made during the outage): the
		// session kept here is stored under its id, which this server served or made; a
		// session logged out meanwhile (a tombstone) is not, counted by the writer
		StoredSession stored = this.writer.relocate(SessionChanges.none(id, kept), id, node, null);
		this.local.remove(id);
		return (stored != null) ? new MemcachedSession(id, stored, this.idFormat, this.codec, this.lifetime) : null;
	}

	/** The random part of an id, which a session keeps when it moves to another node. */
	private void markServed(String id) {
		String base = base(id);
		Long at = this.served.getIfPresent(base);
		long now = System.nanoTime();
		if (at == null || now - at > this.servedRefreshNanos) {
			this.served.put(base, now);
		}
	}

	private static String base(String id) {
		return (id.length() > SessionIdFormat.BASE_LENGTH) ? id.substring(0, SessionIdFormat.BASE_LENGTH) : id;
	}

	/** The session was logged out: no stand-in for its id from now on. */
	void forget(String id) {
		this.served.invalidate(base(id));
	}

	private MemcachedSession newStandIn(String id) {
		MemcachedSession fresh = new MemcachedSession(id, this.defaultInterval, this.idFormat, this.codec,
				this.lifetime);
		StoredSession kept = this.local.save(fresh.changes(), this.writer.planner());
		return new MemcachedSession(id, kept, this.idFormat, this.codec, this.lifetime);
	}

	private MemcachedSession mergeInto(MemcachedSession found, String standInId, StoredSession kept) {
		StoredSession stored = found.base();
		MemcachedNode node = this.idFormat.nodeOf(found.getId());
		if (stored == null || node == null) {
			return found;
		}
		// a three-way merge per attribute: what the session kept here changed since it was
		// read (nothing for a stand-in) is written where the stored value is still the one
		// it read; a change over a value that changed meanwhile, or that it never saw, is
		// not written (counted)
		Map<String, byte[]> read = this.local.basedOn(standInId);
		Map<String, byte[]> now = stored.data().attributes();
		Map<String, byte[]> added = new HashMap<>();
		Set<String> removed = new TreeSet<>();
		Set<String> superseded = new TreeSet<>();
		kept.data().attributes().forEach((name, bytes) -> {
			byte[] was = read.get(name);
			byte[] is = now.get(name);
			if (Arrays.equals(was, bytes) || Arrays.equals(is, bytes)) {
				return;
			}
			if (Arrays.equals(was, is)) {
				added.put(name, bytes);
			}
			else {
				superseded.add(name);
			}
		});
		read.forEach((name, was) -> {
			if (!kept.data().attributes().containsKey(name) && Arrays.equals(was, now.get(name))) {
				removed.add(name);
			}
		});
		if (!superseded.isEmpty()) {
			this.writer.problems().superseded(found.getId(), superseded);
		}
		if (added.isEmpty() && removed.isEmpty()) {
			this.local.remove(standInId);
			return found;
		}
		SessionChanges changes = new SessionChanges(found.getId(), found.getId(), stored,
				stored.data().creationTime(), Map.copyOf(added), Map.of(), Set.copyOf(removed),
				stored.data().maxInactiveInterval(), false, false,
				new SessionChanges.AccessChange(kept.access().lastAccessedTime(), true));
		StoredSession written;
		try {
			written = this.writer.save(changes, node);
		}
		catch (RuntimeException ex) {
			// the node failed again: the stand-in is kept for the next request
			return found;
		}
		this.local.remove(standInId);
		return (written != null) ? new MemcachedSession(found.getId(), written, this.idFormat, this.codec,
				this.lifetime) : found;
	}

	/**
	 * With a single node given as plain {@code host:port}, ids carry no node: a session
	 * saved while the node was down is kept locally under its id, and written to the node
	 * once it is up again.
	 */
	@Nullable MemcachedSession loadKeptWhileDown(String id, @Nullable MemcachedNode nodeUp) {
		StoredSession kept = this.local.find(id);
		if (kept == null || this.lifetime.isExpired(kept.data().maxInactiveInterval(), kept.access())) {
			return null;
		}
		if (nodeUp != null) {
			StoredSession stored = this.writer.relocate(SessionChanges.none(id, kept), id, nodeUp, null);
			if (stored != null) {
				this.local.remove(id);
				return new MemcachedSession(id, stored, this.idFormat, this.codec, this.lifetime);
			}
		}
		return new MemcachedSession(id, kept, this.idFormat, this.codec, this.lifetime);
	}

	/** A session kept in memory while no node was up; moved to a node once one is. */
	@Nullable MemcachedSession load(String id, Function<String, @Nullable MemcachedSession> finder) {
		StoredSession kept = this.local.find(id);
		if (kept == null) {
			String attachedAs = this.local.attachedAs(id);
			return (attachedAs != null) ? finder.apply(attachedAs) : null;
		}
		if (this.lifetime.isExpired(kept.data().maxInactiveInterval(), kept.access())) {
			return null;
		}
		MemcachedNode target = this.nodes.nodeFor(id);
		if (target != null) {
			String newId = this.idFormat.onNode(id, target);
			StoredSession stored = this.writer.relocate(SessionChanges.none(id, kept), newId, target, null);
			if (stored != null) {
				this.local.attached(id, newId);
				return new MemcachedSession(newId, stored, this.idFormat, this.codec, this.lifetime);
			}
		}
		return new MemcachedSession(id, kept, this.idFormat, this.codec, this.lifetime);
	}

}
