package io.github.msm.autoconfigure;

import java.time.Duration;


import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Settings of the session events: which sessions each server watches for their expiry,
 * and how often it looks.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
@ConfigurationProperties("msm.events")
public class MsmEventsProperties {

	/**
	 * Sessions each server watches for their expiry at most (about 100 bytes each).
	 * Beyond that further sessions are not watched by this server (counted in
	 * msm.session.events.untracked and logged): their SessionExpiredEvent is published
	 * only if another server that served them watches them. In sticky mode only the
	 * sessions evicted from memory are watched this way.
	 */
	private int maxSessions = 100_000;

	/**
	 * How often each server checks the sessions it watches whose expiry is due: a
	 * SessionExpiredEvent comes at most about this late. The claim that makes one server
	 * publish lives ten of these, at least 10 minutes.
	 */
	private Duration checkInterval = Duration.ofSeconds(10);

	public int getMaxSessions() {
		return this.maxSessions;
	}

	public void setMaxSessions(int maxSessions) {
		this.maxSessions = maxSessions;
	}

	public Duration getCheckInterval() {
		return this.checkInterval;
	}

	public void setCheckInterval(Duration checkInterval) {
		this.checkInterval = checkInterval;
	}

}
