package io.github.msm.session;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import org.apache.commons.logging.Log;

/**
 * Logs incidents at WARN, at most one per kind and interval, so that a dead node or a
 * flood of bad cookies shows in the log without one line per request.
 *
 * <p>
 * The first incident of a kind is logged at WARN; further ones within the interval go to
 * DEBUG and are counted, and the next WARN of that kind says how many were left out.
 * Messages name the node and the session id, never attribute values; the meters count
 * every incident.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class IncidentLog {

	/** The default interval between two WARN lines of one kind. */
	public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

	private final Log logger;

	private final long intervalNanos;

	private final Map<String, Window> windows = new ConcurrentHashMap<>();

	/**
	 * @param logger where to log
	 * @param interval the least time between two WARN lines of one kind
	 */
	public IncidentLog(Log logger, Duration interval) {
		this.logger = logger;
		this.intervalNanos = interval.toNanos();
	}

	/**
	 * Logs an incident.
	 * @param kind what happened, e.g. {@code "write-failed"}; a small fixed set per logger
	 * @param message the line, built only when it is logged
	 * @return whether it was logged at WARN
	 */
	public boolean warn(String kind, Supplier<String> message) {
		Window window = this.windows.computeIfAbsent(kind, (key) -> new Window());
		long now = System.nanoTime();
		long last = window.lastWarn.get();
		if ((last == Long.MIN_VALUE || now - last >= this.intervalNanos) && window.lastWarn.compareAndSet(last, now)) {
			long suppressed = window.suppressed.getAndSet(0);
			this.logger.warn(message.get() + ((suppressed > 0) ? " (" + suppressed + " more of this kind in the last "
					+ interval() + " were logged at DEBUG)" : ""));
			return true;
		}
		window.suppressed.incrementAndGet();
		if (this.logger.isDebugEnabled()) {
			this.logger.debug(message.get());
		}
		return false;
	}

	private String interval() {
		Duration interval = Duration.ofNanos(this.intervalNanos);
		return (interval.toMillis() % 1000 == 0) ? interval.toSeconds() + " s" : interval.toMillis() + " ms";
	}

	private static final class Window {

		final AtomicLong lastWarn = new AtomicLong(Long.MIN_VALUE);

		final AtomicLong suppressed = new AtomicLong();

	}

}
