package io.github.msm.session;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.storage.MemcachedStore;
import io.github.msm.session.storage.PipelinedWrite;
import io.github.msm.session.storage.StoredValue;
import io.github.msm.session.storage.WriteOutcome;
import io.github.msm.session.storage.WriteResult;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * Sends a batch of backup writes to one node in as few round trips as the version check
 * allows: every write of the batch goes out at once (pipelined), and so does every read.
 *
 * <p>
 * A data write must not replace a newer version or a tombstone that another server
 * wrote. It is a compare-and-set with the CAS token this server got back from its own
 * last backup write of that key, when it has one: the item still holds what this server
 * wrote (an older version of the same session), so one operation suffices. When the
 * version before the write's first one was written by another server (the token is of an
 * older version), that server likely wrote the backup as well: the write reads the item's
 * version and compare-and-sets against it, two operations, as two servers that take turns
 * on a session (round robin) pay for each backup write. When another server wrote the
 * backup although the versions do not show it, the {@code cas} misses and the write falls
 * back to the read: three operations. Tokens are remembered for at most
 * {@value #MAX_TOKENS} keys, and forgotten when the node comes back possibly empty (its
 * CAS counter starts again); a key without one is read first, and so is every key over
 * the text protocol, which reports no token for a write.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class BackupSender {

	private static final Log logger = LogFactory.getLog(BackupSender.class);

	private static final int ATTEMPTS = 8;

	static final int MAX_TOKENS = 50_000;

	private static final long WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

	private final MemcachedStore store;

	private final SessionMetrics metrics;

	/** The CAS token and version of this server's last data write, by node and backup key. */
	private final Cache<TokenKey, Token> tokens = Caffeine.newBuilder().maximumSize(MAX_TOKENS).build();

	private final AtomicLong lastWarning = new AtomicLong(System.nanoTime() - WARN_INTERVAL_NANOS);

	BackupSender(MemcachedStore store, SessionMetrics metrics) {
		this.store = store;
		this.metrics = metrics;
	}

	/**
	 * Sends the writes (at most one per key) and waits for their answers; a write that
	 * could not be stored is counted and logged as dropped, one refused by the version
	 * check is counted as refused.
	 */
	void send(MemcachedNode node, List<PendingBackup> batch) {
		// taken before sending: a token answered by a process that restarted meanwhile must
		// not be filed under the new process (its CAS counter starts again)
		long restarts = this.store.availability().restarts(node);
		List<PendingBackup> sent = new ArrayList<>(batch.size());
		List<PipelinedWrite> writes = new ArrayList<>(batch.size());
		List<PendingBackup> unchecked = new ArrayList<>();
		for (PendingBackup write : batch) {
			TokenKey tokenKey = new TokenKey(node, write.key());
			if (write.kind() != PendingBackup.Kind.DATA) {
				this.tokens.invalidate(tokenKey);
				sent.add(write);
				writes.add((write.kind() == PendingBackup.Kind.DELETE) ? PipelinedWrite.delete(write.key())
						: PipelinedWrite.set(write.key(), write.expiration(), bytes(write)));
				continue;
			}
			Token token = this.tokens.getIfPresent(tokenKey);
			if (token != null && token.restarts() != restarts) {
				// the node came back empty since: its CAS counter started again
				this.tokens.invalidate(tokenKey);
				token = null;
			}
			if (token == null) {
				unchecked.add(write);
			}
			else if (token.version() > write.version()) {
				this.metrics.backupRefused();
			}
			else if (token.version() < write.firstVersion() - 1) {
				// another server wrote the versions in between, and likely their backups
				unchecked.add(write);
			}
			else {
				sent.add(write);
				writes.add(PipelinedWrite.cas(write.key(), token.cas(), write.expiration(), bytes(write)));
			}
		}
		List<WriteOutcome> outcomes = this.store.writeAll(node, writes);
		for (int i = 0; i < sent.size(); i++) {
			PendingBackup write = sent.get(i);
			WriteOutcome outcome = outcomes.get(i);
			if (outcome.result() == WriteResult.FAILED) {
				dropped(write.describe(), node);
			}
			else if (write.kind() == PendingBackup.Kind.DATA) {
				if (outcome.isOk()) {
					remember(node, write, outcome, restarts);
				}
				else {
					// another server wrote the key since: check its version
					this.tokens.invalidate(new TokenKey(node, write.key()));
					unchecked.add(write);
				}
			}
		}
		for (int attempt = 0; attempt < ATTEMPTS && !unchecked.isEmpty(); attempt++) {
			unchecked = checkAndWrite(node, unchecked);
		}
		unchecked.forEach((write) -> dropped(write.describe(), node));
	}

	/**
	 * Reads the versions of the keys, then writes each over an older version (or where
	 * the key is absent).
	 * @return the writes that met a concurrent write and must be checked again
	 */
	private List<PendingBackup> checkAndWrite(MemcachedNode node, List<PendingBackup> unchecked) {
		long restarts = this.store.availability().restarts(node);
		List<String> keys = unchecked.stream().map(PendingBackup::key).toList();
		Map<String, StoredValue> current = this.store.readAll(node, keys);
		if (current == null) {
			unchecked.forEach((write) -> dropped(write.describe(), node));
			return List.of();
		}
		List<PendingBackup> sent = new ArrayList<>(unchecked.size());
		List<PipelinedWrite> writes = new ArrayList<>(unchecked.size());
		for (PendingBackup write : unchecked) {
			StoredValue value = current.get(write.key());
			if (value == null) {
				writes.add(PipelinedWrite.add(write.key(), write.expiration(), bytes(write)));
			}
			else if (SessionCodec.versionOf(value.bytes()) > write.version()) {
				this.metrics.backupRefused();
				continue;
			}
			else {
				writes.add(PipelinedWrite.cas(write.key(), value.cas(), write.expiration(), bytes(write)));
			}
			sent.add(write);
		}
		List<WriteOutcome> outcomes = this.store.writeAll(node, writes);
		List<PendingBackup> again = new ArrayList<>();
		for (int i = 0; i < sent.size(); i++) {
			PendingBackup write = sent.get(i);
			WriteOutcome outcome = outcomes.get(i);
			switch (outcome.result()) {
				case OK -> remember(node, write, outcome, restarts);
				case FAILED -> dropped(write.describe(), node);
				default -> again.add(write);
			}
		}
		return again;
	}

	/** Counts a write refused before it was sent: the lane holds a newer version or a tombstone of its key. */
	void refused() {
		this.metrics.backupRefused();
	}

	private void remember(MemcachedNode node, PendingBackup write, WriteOutcome outcome, long restartsAtSend) {
		TokenKey key = new TokenKey(node, write.key());
		if (outcome.cas() != 0 && restartsAtSend == this.store.availability().restarts(node)) {
			this.tokens.put(key, new Token(outcome.cas(), write.version(), restartsAtSend));
		}
		else {
			this.tokens.invalidate(key);
		}
	}

	private static byte[] bytes(PendingBackup write) {
		byte[] bytes = write.bytes();
		return (bytes != null) ? bytes : new byte[0];
	}

	/**
	 * Counts a backup write that was not stored and logs it at WARN, at most once per
	 * interval (the rest at DEBUG): the primary copy is intact.
	 */
	void dropped(String what, @Nullable MemcachedNode node) {
		this.metrics.backupDropped();
		long now = System.nanoTime();
		long last = this.lastWarning.get();
		if (now - last >= WARN_INTERVAL_NANOS && this.lastWarning.compareAndSet(last, now)) {
			logger.warn("Backup " + what + ((node != null) ? " on node " + node : "")
					+ " was not stored; the primary copy is intact (further failures in the next 10 s are only counted"
					+ " in msm.backup.write.dropped)");
		}
		else if (logger.isDebugEnabled()) {
			logger.debug("Backup " + what + " was not stored");
		}
	}

	private record TokenKey(MemcachedNode node, String key) {
	}

	/**
	 * @param cas the CAS token the backup node gave this server's write
	 * @param version the version that write held
	 * @param restarts how often the node had come back possibly empty then
	 */
	private record Token(long cas, long version, long restarts) {
	}

}
