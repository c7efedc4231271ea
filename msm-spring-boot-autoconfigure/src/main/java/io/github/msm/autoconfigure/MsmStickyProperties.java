package io.github.msm.autoconfigure;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Settings of sticky mode ({@code msm.sticky=true}). A class of its own because
 * {@code msm.sticky} is itself the switch: a nested object in {@link MsmProperties}
 * could not also be a boolean.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
@ConfigurationProperties("msm.sticky")
public class MsmStickyProperties {

	/**
	 * Sessions held in this server's memory at most. Beyond that the least used are
	 * evicted from memory only; they stay in memcached and are read from there at their
	 * next request.
	 */
	private int maxSessions = 10_000;

	/**
	 * Whether changes are written to memcached from a queue instead of by the request.
	 * Writes of a busy session coalesce (the latest state wins); a full queue never blocks
	 * a request; queued writes are flushed at graceful shutdown but lost if the server
	 * dies.
	 */
	private boolean asyncWrites;

	/**
	 * Sessions that may wait in the write queue (msm.sticky.async-writes).
	 */
	private int writeQueueCapacity = 10_000;

	/**
	 * How often idle sessions are expired: deleted locally and from memcached, with a
	 * SessionExpiredEvent. Also how long a local copy is served before one read checks it
	 * against memcached, and how soon held sessions a restarted node lost are written back.
	 */
	private Duration sweepInterval = Duration.ofMinutes(1);

	public int getMaxSessions() {
		return this.maxSessions;
	}

	public void setMaxSessions(int maxSessions) {
		this.maxSessions = maxSessions;
	}

	public boolean isAsyncWrites() {
		return this.asyncWrites;
	}

	public void setAsyncWrites(boolean asyncWrites) {
		this.asyncWrites = asyncWrites;
	}

	public int getWriteQueueCapacity() {
		return this.writeQueueCapacity;
	}

	public void setWriteQueueCapacity(int writeQueueCapacity) {
		this.writeQueueCapacity = writeQueueCapacity;
	}

	public Duration getSweepInterval() {
		return this.sweepInterval;
	}

	public void setSweepInterval(Duration sweepInterval) {
		this.sweepInterval = sweepInterval;
	}

}
