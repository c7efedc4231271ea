package io.github.msm.session;

import java.util.concurrent.atomic.AtomicReference;

import java.time.Clock;
import java.time.Duration;
import java.util.function.Consumer;

import io.github.msm.session.node.NodeAvailability;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.node.NodeSelector;
import io.github.msm.session.serializer.SessionSerializer;
import io.github.msm.session.storage.MemcachedStore;

/**
 * The collaborators of a {@link MemcachedSessionRepository}, built from its settings once
 * it is in use, and closed together.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class RepositoryParts implements AutoCloseable {

	final AttributeCodec codec;

	final SessionLifetime lifetime;

	final NodeSelector nodes;

	final SessionReader reader;

	final BackupWriter backup;

	final SessionRemover remover;

	final SessionWriter writer;

	final SessionFailover failover;

	final OutageEpochs epochs;

	final LocalSessions local;

	final LocalFallback localFallback;

	/** How often each server reads the nodes' outage counters. */
	private static final Duration EPOCH_PERIOD = Duration.ofMillis(100);

	/** How old that reading may be when a session is served; movers wait as long. */
	private static final Duration EPOCH_LEASE = Duration.ofMillis(300);

	/** How long every read from a node is checked after its counter changed. */
	private static final Duration EPOCH_WINDOW = Duration.ofSeconds(10);

	/**
	 * The settings the parts are built from.
	 * @param keys key layout
	 * @param metrics where outcomes are counted
	 * @param backupAsync whether backup writes are queued
	 * @param backupMaxLag how far a backup lane may fall behind before requests wait
	 * @param maxItemSize largest item memcached takes
	 * @param clock this server's clock
	 * @param accessWriteFraction the write window as a fraction of the interval
	 * @param defaultMaxInactiveInterval interval of new sessions
	 * @param savePolicy which attributes are written, and when
	 * @param flusher saves a session whose change is written at once
	 */
	record Settings(SessionKeys keys, SessionMetrics metrics, boolean backupAsync, Duration backupMaxLag, int maxItemSize, Clock clock,
			double accessWriteFraction, Duration defaultMaxInactiveInterval, SessionSavePolicy savePolicy,
			Consumer<MemcachedSession> flusher) {
	}

	RepositoryParts(MemcachedStore store, NodeRing ring, SessionSerializer serializer, SessionIdFormat idFormat,
			Settings settings) {
		this.codec = new AttributeCodec(serializer, settings.metrics(), settings.savePolicy(), settings.flusher());
		this.lifetime = new SessionLifetime(settings.clock(), settings.accessWriteFraction());
		NodeAvailability availability = store.availability();
		this.nodes = new NodeSelector(ring, availability);
		this.reader = new SessionReader(store, settings.keys(), serializer.id());
		this.backup = new BackupWriter(store, settings.backupAsync(), settings.backupMaxLag(),
				settings.metrics());
		// the failover needs the epochs, and hears from them: built after them
		AtomicReference<SessionFailover> failover = new AtomicReference<>();
		this.epochs = new OutageEpochs(store, this.nodes, settings.keys(), EPOCH_PERIOD, EPOCH_LEASE, EPOCH_WINDOW,
				(node) -> {
					SessionFailover told = failover.get();
					if (told != null) {
						told.outageSeen(node);
					}
				});
		this.remover = new SessionRemover(store, this.nodes, settings.keys(), this.lifetime, this.backup, this.epochs);
		this.writer = new SessionWriter(store, this.nodes, this.lifetime, this.reader, this.backup, this.remover,
				new SessionWriter.Settings(settings.keys(), settings.metrics(), serializer.id(),
						settings.maxItemSize(), store.operationTimeout().multipliedBy(3)));
		MoveSettler settler = new MoveSettler(store, settings.keys(), idFormat, this.reader, this.writer,
				this.lifetime);
		this.remover.settleMovesWith(settler);
		this.failover = new SessionFailover(store, this.nodes, settings.keys(), idFormat, this.reader, this.writer,
				this.backup, this.lifetime, settings.metrics(), settler, this.epochs, recoveryWindow(settings.defaultMaxInactiveInterval()));
		failover.set(this.failover);
		this.local = new LocalSessions(settings.defaultMaxInactiveInterval());
		this.localFallback = new LocalFallback(this.local, this.writer, this.remover, this.nodes, idFormat, this.codec,
				this.lifetime, settings.defaultMaxInactiveInterval());
		availability.addListener(this.remover);
		availability.addListener(this.failover);
	}

	/**
	 * How long after a node went down or came back sessions are checked for lost
	 * copies: long enough for every session in use to be accessed once.
	 */
	private static Duration recoveryWindow(Duration interval) {
		Duration min = Duration.ofMinutes(10);
		Duration max = Duration.ofDays(1);
		if (interval.isZero() || interval.isNegative()) {
			return max;
		}
		Duration window = interval.multipliedBy(2).plus(SessionLifetime.GRACE);
		return (window.compareTo(min) < 0) ? min : (window.compareTo(max) > 0) ? max : window;
	}

	@Override
	public void close() {
		this.nodes.availability().removeListener(this.remover);
		this.nodes.availability().removeListener(this.failover);
		this.epochs.close();
		this.backup.close();
	}

}
