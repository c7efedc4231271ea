package io.github.msm.session;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeSelector;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.session.storage.StoredValue;
import io.github.msm.session.storage.WriteResult;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Removes the backup copies a node missed while it was down, once it is back.
 *
 * <p>
 * While a session's backup node is down, its backup writes go to the next node up (the
 * interim backup node). The regular backup node keeps the older copy it had, and comes
 * back with it: if the session's primary and the interim node then fail together (two
 * nodes hung at once), a failover finds that older copy, and the session is served
 * without its changes since (issue 20: most stale reads of {@code RealisticTrafficIT}
 * in sync mode). So every backup write that went elsewhere because the regular backup
 * node was down is remembered, by key and version, and when that node is up again the
 * copies it holds that are older are deleted (only if unchanged since read): a failover
 * then finds nothing there, and the session gets a stand-in until its nodes answer.
 * A copy written there since the node came back (as new or newer) stays.
 *
 * <p>
 * Costs nothing while every node is up (one comparison per backup write); during an
 * outage one map entry per session whose backup was displaced (at most
 * {@value #MAX_PER_NODE} per node); when the node is back one {@code get}, and for the
 * older copies one {@code delete}, per remembered session, in the background.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class DisplacedBackups {

	private static final Log logger = LogFactory.getLog(DisplacedBackups.class);

	/** Keys remembered per regular backup node, at most; more are counted and logged. */
	static final int MAX_PER_NODE = 200_000;

	private final MemcachedStore store;

	private final NodeSelector nodes;

	private final SessionIdFormat idFormat;

	/** By regular backup node: backup key, the highest version written elsewhere. */
	private final Map<MemcachedNode, Map<String, Long>> displaced = new ConcurrentHashMap<>();

	DisplacedBackups(MemcachedStore store, NodeSelector nodes, SessionIdFormat idFormat) {
		this.store = store;
		this.nodes = nodes;
		this.idFormat = idFormat;
	}

	/**
	 * A backup data write of a session is sent to a node: remembered when that is not
	 * its regular backup node because that one is down.
	 */
	void written(String sessionId, MemcachedNode node, String backupKey, long version) {
		MemcachedNode primary = this.idFormat.nodeOf(sessionId);
		MemcachedNode regular = (primary != null) ? this.nodes.ring().backupOf(primary) : null;
		if (regular == null || regular.equals(node) || this.nodes.isAvailable(regular)) {
			return;
		}
		Map<String, Long> keys = this.displaced.computeIfAbsent(regular, (key) -> new ConcurrentHashMap<>());
		if (keys.size() >= MAX_PER_NODE && !keys.containsKey(backupKey)) {
			logger.warn("More than " + MAX_PER_NODE + " backups displaced from memcached node " + regular
					+ "; the older copies of the others it holds are not removed when it is back");
			return;
		}
		keys.merge(backupKey, version, Math::max);
	}

	/**
	 * The node is up again: the older copies it holds of the remembered sessions are
	 * removed in the background (all of them are gone anyway if it restarted).
	 */
	void up(MemcachedNode node, boolean restarted) {
		Map<String, Long> keys = this.displaced.remove(node);
		if (keys == null || restarted) {
			return;
		}
		// its own daemon thread, not the common pool the application's parallel streams use:
		// these are blocking memcached calls, up to one per remembered key
		Thread cleaner = new Thread(() -> {
			int removed = 0;
			for (Map.Entry<String, Long> entry : keys.entrySet()) {
				if (!this.nodes.isAvailable(node)) {
					// down again: what is left waits for its next return
					this.displaced.computeIfAbsent(node, (key) -> new ConcurrentHashMap<>())
						.merge(entry.getKey(), entry.getValue(), Math::max);
					continue;
				}
				if (removeIfOlder(node, entry.getKey(), entry.getValue())) {
					removed++;
				}
			}
			if (removed > 0) {
				logger.info("Removed " + removed + " backup copies memcached node " + node
						+ " missed changes of while it was down");
			}
		}, "msm-displaced-backups-" + node.id());
		cleaner.setDaemon(true);
		cleaner.start();
	}

	/** Deletes the copy under the key if it is session data older than the version. */
	private boolean removeIfOlder(MemcachedNode node, String key, long version) {
		StoredValue value = this.store.get(node, key);
		if (value == null || SessionCodec.isTombstone(value.bytes())) {
			return false;
		}
		long there = SessionCodec.versionOf(value.bytes());
		if (there < 0 || there >= version) {
			return false;
		}
		// the text protocol has no delete with a token: a compare-and-set with a negative
		// expiration is one (memcached stores the item already expired)
		WriteResult result = this.store.canDeleteIfUnchanged() ? this.store.deleteIfUnchanged(node, key, value.cas())
				: this.store.cas(node, key, value.cas(), -1, value.bytes()).result();
		return result == WriteResult.OK;
	}

}
