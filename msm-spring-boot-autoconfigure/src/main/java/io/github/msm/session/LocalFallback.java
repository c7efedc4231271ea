package io.github.msm.session;

import java.util.function.Function;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeSelector;
import org.jspecify.annotations.Nullable;

/**
 * Keeps requests working while no memcached node is up: sessions are saved to this
 * server's memory ({@link LocalSessions}) and moved to a node at their first access once
 * one is up again (msm #49).
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class LocalFallback {

	private final LocalSessions local;

	private final SessionWriter writer;

	private final SessionRemover remover;

	private final NodeSelector nodes;

	private final SessionIdFormat idFormat;

	private final AttributeCodec codec;

	private final SessionLifetime lifetime;

	private final boolean idsCarryNode;

	LocalFallback(LocalSessions local, SessionWriter writer, SessionRemover remover, NodeSelector nodes,
			SessionIdFormat idFormat, AttributeCodec codec, SessionLifetime lifetime) {
		this.local = local;
		this.writer = writer;
		this.remover = remover;
		this.nodes = nodes;
		this.idFormat = idFormat;
		this.codec = codec;
		this.lifetime = lifetime;
		this.idsCarryNode = nodes.ring().isNodeIdInSessionId();
	}

	/** No node is up: the session is kept in this server's memory until one is. */
	void save(MemcachedSession session, SessionChanges changes) {
		String id = session.getId();
		boolean keepsId = this.idFormat.isLocal(id) || !this.idsCarryNode;
		String localId = keepsId ? id : this.idFormat.newLocalId();
		session.movedTo(localId, changes, this.local.save(changes.movedTo(localId), this.writer.planner()));
		String storedId = changes.storedId();
		if (storedId != null && !storedId.equals(localId)) {
			MemcachedNode storedNode = this.idFormat.nodeOf(storedId);
			if (storedNode != null) {
				// the copies under the old id must not outlive the move, on any node
				this.remover.moved(storedId, null, storedNode, changes.maxInactiveInterval());
			}
			else {
				this.local.remove(storedId);
			}
		}
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
