package io.github.msm.session;

import java.util.List;
import java.util.Map;

import io.github.msm.session.log.SessionIdTag;
import io.github.msm.session.SessionCodec.CorruptSessionException;
import io.github.msm.session.SessionCodec.Data;
import io.github.msm.session.SessionCodec.ForeignFormatException;
import io.github.msm.session.SessionCodec.Validity;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.session.storage.StoredValue;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * Reads a session's data and validity items in one pipelined round trip.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class SessionReader {

	private static final Log logger = LogFactory.getLog(SessionReader.class);

	private static final IncidentLog incidents = new IncidentLog(logger, IncidentLog.DEFAULT_INTERVAL);

	private final MemcachedStore store;

	private final SessionKeys keys;

	private final byte serializerId;

	SessionReader(MemcachedStore store, SessionKeys keys, byte serializerId) {
		this.store = store;
		this.keys = keys;
		this.serializerId = serializerId;
	}

	/** What a read found. */
	enum Status {

		/** A session this server can read. */
		FOUND,

		/** Nothing there. */
		ABSENT,

		/** A tombstone: the session was deleted or moved, and must not come back. */
		DELETED,

		/**
		 * A session this server cannot read but others may (another serializer or format
		 * version): left in place.
		 */
		FOREIGN,

		/** Bytes that are no session for any server. */
		CORRUPT,

		/** The node is down or did not answer. */
		FAILED

	}

	/**
	 * @param status what was found
	 * @param session the session, only when {@link Status#FOUND}
	 */
	record Read(Status status, @Nullable StoredSession session, @Nullable String movedTo, long tombstoneCas,
			SessionCodec.@Nullable MovedRecord moveRecord) {

		static final Read ABSENT = new Read(Status.ABSENT, null, null, 0);

		static final Read FAILED = new Read(Status.FAILED, null, null, 0);

		Read(Status status, @Nullable StoredSession session) {
			this(status, session, null, 0);
		}

		Read(Status status, @Nullable StoredSession session, @Nullable String movedTo, long tombstoneCas) {
			this(status, session, movedTo, tombstoneCas, null);
		}

	}

	Read read(String id, MemcachedNode node) {
		return read(id, node, this.keys.data(id), this.keys.validity(id));
	}

	/** Reads the backup copy a node holds of a session whose primary is another node. */
	Read readBackup(String id, MemcachedNode node) {
		return read(id, node, SessionKeys.backup(this.keys.data(id)), SessionKeys.backup(this.keys.validity(id)));
	}

	private Read read(String id, MemcachedNode node, String dataKey, String validityKey) {
		Map<String, StoredValue> found = this.store.readAll(node, List.of(dataKey, validityKey));
		if (found == null) {
			return Read.FAILED;
		}
		StoredValue data = found.get(dataKey);
		if (data == null) {
			return Read.ABSENT;
		}
		if (SessionCodec.isTombstone(data.bytes())) {
			return new Read(Status.DELETED, null, SessionCodec.movedTo(data.bytes()), data.cas(),
					SessionCodec.movedRecord(data.bytes()));
		}
		Data decoded;
		try {
			decoded = SessionCodec.decodeData(data.bytes());
		}
		catch (ForeignFormatException ex) {
			incidents.warn("foreign-format", () -> "Session " + SessionIdTag.of(id) + " on node " + node.id() + " is stored in another"
					+ " format (" + ex.getMessage() + "): treated as missing");
			return new Read(Status.FOREIGN, null);
		}
		catch (CorruptSessionException ex) {
			incidents.warn("corrupt", () -> "Session " + SessionIdTag.of(id) + " on node " + node.id()
					+ " holds bytes that are not a readable session (" + ex.getMessage()
					+ "): treated as missing and removed");
			return new Read(Status.CORRUPT, null);
		}
		if (decoded.serializerId() != this.serializerId) {
			byte foreign = decoded.serializerId();
			incidents.warn("foreign-serializer", () -> "Session " + SessionIdTag.of(id) + " on node " + node.id()
					+ " was written with serializer " + foreign + ", this server uses " + this.serializerId
					+ " (msm.serializer): treated as missing");
			return new Read(Status.FOREIGN, null);
		}
		StoredValue validity = found.get(validityKey);
		return new Read(Status.FOUND, StoredSession.of(decoded, data.cas(), validity(id, node, validity),
				(validity != null) ? validity.cas() : 0));
	}

	/** A corrupt validity item is ignored: the data item alone still makes the session. */
	private static @Nullable Validity validity(String id, MemcachedNode node, @Nullable StoredValue validity) {
		if (validity == null) {
			return null;
		}
		try {
			return SessionCodec.decodeValidity(validity.bytes());
		}
		catch (CorruptSessionException ex) {
			incidents.warn("corrupt-validity", () -> "Session " + SessionIdTag.of(id) + " on node " + node.id()
					+ " has a corrupt validity item; using the data item's access time");
			return null;
		}
	}

}
