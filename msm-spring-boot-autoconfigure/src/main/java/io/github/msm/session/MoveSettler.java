package io.github.msm.session;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

import io.github.msm.session.log.SessionIdTag;
import io.github.msm.session.SessionCodec.Data;
import io.github.msm.session.SessionCodec.MovedRecord;
import io.github.msm.session.SessionReader.Read;
import io.github.msm.session.SessionReader.Status;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.session.storage.WriteOutcome;
import io.github.msm.session.storage.WriteResult;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * Replaces the old id of a moved session on its old node with the tombstone that points
 * to the new id, without losing a write another server made there after the move.
 *
 * <p>
 * Servers can see a node in different states: one moves a session off a node it takes
 * for down while another, which sees the node up, keeps writing under the old id. So the
 * tombstone is a compare-and-set on what is there: when the old id holds the version the
 * mover moved (or older), it is replaced as is; when it holds a newer version, the
 * attributes that changed there since the move (told by the move record's digests) are
 * first merged into the moved session where it did not change them itself (a value
 * changed on both sides keeps the moved session's: it is the one in use), then the
 * tombstone replaces exactly the version that was merged. A write that lands after the tombstone fails its compare-and-set and
 * follows the tombstone to the new id, as any write to a moved session does.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class MoveSettler {

	private static final Log logger = LogFactory.getLog(MoveSettler.class);

	private static final int ATTEMPTS = 16;

	private static final int MAX_HOPS = 4;

	private final MemcachedStore store;

	private final SessionKeys keys;

	private final SessionIdFormat idFormat;

	private final SessionReader reader;

	private final SessionWriter writer;

	private final SessionLifetime lifetime;

	MoveSettler(MemcachedStore store, SessionKeys keys, SessionIdFormat idFormat, SessionReader reader,
			SessionWriter writer, SessionLifetime lifetime) {
		this.store = store;
		this.keys = keys;
		this.idFormat = idFormat;
		this.reader = reader;
		this.writer = writer;
		this.lifetime = lifetime;
	}

	/**
	 * Settles the old id of a moved session on its old node.
	 * @param oldId the id the session had
	 * @param oldNode the node that id names
	 * @param newId where it moved
	 * @param record what the mover moved
	 * @return whether the old id is settled (a tombstone, or nothing, is there now);
	 * {@code false} when a node failed and it must be tried again
	 */
	boolean settle(String oldId, MemcachedNode oldNode, String newId, MovedRecord record) {
		String key = this.keys.data(oldId);
		int expiration = this.lifetime.expiration(SessionLifetime.GRACE.multipliedBy(10));
		byte[] tombstone = SessionCodec.movedRecord(newId, record);
		MovedRecord merged = record;
		for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
			Read read = this.reader.read(oldId, oldNode);
			switch (read.status()) {
				case FAILED:
					return false;
				case DELETED:
					return true;
				case ABSENT:
					// nothing to replace; the add keeps a late copy from coming back
					WriteOutcome added = this.store.add(oldNode, key, expiration, tombstone);
					if (added.result() == WriteResult.FAILED) {
						return false;
					}
					if (!added.isOk()) {
						continue;
					}
					return true;
				case FOUND:
					break;
				default:
					// unreadable for this server: left to the servers that read it
					return true;
			}
			StoredSession there = read.session();
			if (there.version() > merged.version()) {
				Merge merge = mergeInto(newId, oldId, there, merged);
				if (merge == Merge.RETRY) {
					return false;
				}
				if (merge == Merge.MOVED_BACK) {
					// the session lives under the old id again: the move is history
					return true;
				}
				merged = MovedRecord.of(there.data());
			}
			WriteOutcome replaced = this.store.cas(oldNode, key, there.cas(), expiration, tombstone);
			switch (replaced.result()) {
				case OK:
					this.store.deleteAsync(oldNode, this.keys.validity(oldId));
					return true;
				case FAILED:
					return false;
				default:
					// written again meanwhile: read and merge again
			}
		}
		logger.warn("The old id " + SessionIdTag.of(oldId) + " of a session moved to " + SessionIdTag.of(newId) + " kept changing on node "
				+ oldNode.id() + "; its tombstone is tried again later");
		return false;
	}

	/** Whether the moved session holds the attribute as it was moved (or lacks it, as then). */
	private static boolean unchangedSinceMove(Data current, MovedRecord moved, String name) {
		byte[] value = current.attributes().get(name);
		Long before = moved.digests().get(name);
		return (value == null) ? before == null : before != null && before == SessionCodec.digest(value);
	}

	/** What became of a merge into the moved session. */
	private enum Merge {

		/** The change is in the moved session, or need not be (it was logged out). */
		DONE,

		/** A node failed: try again later. */
		RETRY,

		/** The session moved back to the old id: nothing to merge, nothing to replace. */
		MOVED_BACK

	}

	/**
	 * Merges what changed under the old id since the move into the moved session: the
	 * attributes whose bytes differ from the moved version's, and the removal of those it
	 * had and the old id no longer has. A moved session logged out meanwhile stays so.
	 */
	private Merge mergeInto(String newId, String oldId, StoredSession there, MovedRecord moved) {
		Map<String, byte[]> set = new LinkedHashMap<>();
		there.data().attributes().forEach((name, value) -> {
			Long before = moved.digests().get(name);
			if (before == null || before != SessionCodec.digest(value)) {
				set.put(name, value);
			}
		});
		Set<String> removed = new LinkedHashSet<>(moved.digests().keySet());
		removed.removeAll(there.data().attributes().keySet());
		if (set.isEmpty() && removed.isEmpty()) {
			return Merge.DONE;
		}
		String target = newId;
		for (int hop = 0; hop < MAX_HOPS; hop++) {
			MemcachedNode node = this.idFormat.nodeOf(target);
			if (target.equals(oldId)) {
				return Merge.MOVED_BACK;
			}
			if (node == null || !target.equals(this.idFormat.onNode(oldId, node))) {
				return Merge.DONE;
			}
			Read read = this.reader.read(target, node);
			if (read.status() == Status.FAILED) {
				return Merge.RETRY;
			}
			if (read.status() == Status.DELETED && read.movedTo() != null) {
				target = read.movedTo();
				continue;
			}
			if (read.status() != Status.FOUND) {
				// logged out, expired or unreadable: nothing to merge into
				return Merge.DONE;
			}
			StoredSession base = read.session();
			Data data = there.data();
			// a three-way merge per attribute: the old id's change goes in only where the
			// moved session still holds what was moved (it was used since: its value wins)
			Map<String, byte[]> toSet = new LinkedHashMap<>();
			set.forEach((name, value) -> {
				if (unchangedSinceMove(base.data(), moved, name)) {
					toSet.put(name, value);
				}
			});
			Set<String> toRemove = new LinkedHashSet<>();
			removed.forEach((name) -> {
				if (unchangedSinceMove(base.data(), moved, name)) {
					toRemove.add(name);
				}
			});
			if (toSet.isEmpty() && toRemove.isEmpty()) {
				return Merge.DONE;
			}
			SessionChanges changes = new SessionChanges(target, target, base, base.data().creationTime(), toSet,
					Map.of(), toRemove, base.data().maxInactiveInterval(), false, false,
					new SessionChanges.AccessChange(there.access().lastAccessedTime(), true));
			try {
				StoredSession stored = this.writer.save(changes, node);
				if (stored != null) {
					logger.info("Session " + SessionIdTag.of(oldId) + " was written (version " + data.version() + ") after it moved to "
							+ target + "; merged " + toSet.keySet() + (toRemove.isEmpty() ? "" : ", removed " + toRemove));
				}
				return Merge.DONE;
			}
			catch (SessionMovedException ex) {
				target = ex.newId;
			}
			catch (PrimaryDownException ex) {
				return Merge.RETRY;
			}
		}
		return Merge.DONE;
	}

}
