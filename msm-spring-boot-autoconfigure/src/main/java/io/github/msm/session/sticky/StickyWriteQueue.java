package io.github.msm.session.sticky;

import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import io.github.msm.session.log.SessionIdTag;

/**
 * Writes sessions off the request thread ({@code msm.sticky.async-writes}). A session is
 * queued at most once however often it changes: the write takes its latest local state,
 * so the writes of several requests coalesce into one. A full queue never blocks a
 * request: the change stays in memory, is counted, and goes with the session's next
 * write or the flush at shutdown.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class StickyWriteQueue implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(StickyWriteQueue.class);

	private final Set<String> queued = ConcurrentHashMap.newKeySet();

	private final ThreadPoolExecutor executor;

	private final Consumer<String> writer;

	private final Runnable onFull;

	/**
	 * @param capacity sessions that may wait
	 * @param writer writes the latest state of a session, by id
	 * @param onFull counts a session that found the queue full
	 */
	StickyWriteQueue(int capacity, Consumer<String> writer, Runnable onFull) {
		this.writer = writer;
		this.onFull = onFull;
		this.executor = new ThreadPoolExecutor(2, 2, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(capacity),
				(runnable) -> {
					Thread thread = new Thread(runnable, "msm-sticky-writer");
					thread.setDaemon(true);
					return thread;
				});
	}

	/** Queues a write of the session unless one is queued already. */
	void enqueue(String sessionId) {
		if (!this.queued.add(sessionId)) {
			return;
		}
		try {
			this.executor.execute(() -> {
				this.queued.remove(sessionId);
				try {
					this.writer.accept(sessionId);
				}
				catch (RuntimeException ex) {
					logger.warn("Queued write of session " + SessionIdTag.of(sessionId) + " failed", ex);
				}
			});
		}
		catch (RejectedExecutionException ex) {
			this.queued.remove(sessionId);
			this.onFull.run();
		}
	}

	/** Sessions waiting to be written. */
	int size() {
		return this.queued.size();
	}

	/** Waits until every write queued so far has run. */
	void drain() {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
		while (!this.queued.isEmpty() || this.executor.getActiveCount() > 0 || !this.executor.getQueue().isEmpty()) {
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException("sticky write queue did not drain in 30 s");
			}
			try {
				Thread.sleep(1);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return;
			}
		}
	}

	/** Runs the writes queued so far (boundedly) and stops. */
	@Override
	public void close() {
		this.executor.shutdown();
		try {
			if (!this.executor.awaitTermination(30, TimeUnit.SECONDS)) {
				logger.warn("Sticky writes still queued after 30 s at shutdown were abandoned");
				this.executor.shutdownNow();
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
