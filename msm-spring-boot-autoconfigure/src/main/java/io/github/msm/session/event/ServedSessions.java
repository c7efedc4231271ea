package io.github.msm.session.event;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import org.springframework.util.Assert;

/**
 * The sessions this server served, with the earliest time each can expire, bounded: a
 * session beyond the bound is not watched here (counted), so its expiry is published
 * only if another server that served it watches it.
 *
 * <p>
 * Finding the sessions due scans the map: the check runs every few seconds over at most
 * the bound, which costs far less than a time wheel's bookkeeping on every request.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class ServedSessions {

	private final int maxSessions;

	private final ConcurrentHashMap<String, Instant> expiries = new ConcurrentHashMap<>();

	private final LongAdder untracked = new LongAdder();

	ServedSessions(int maxSessions) {
		Assert.isTrue(maxSessions >= 1, "maxSessions must be at least 1");
		this.maxSessions = maxSessions;
	}

	/**
	 * Watches a session until the given time (this server's latest knowledge wins).
	 * @return {@code false} when the bound is reached and the session is not watched
	 */
	boolean track(String id, Instant expiresAt) {
		if (this.expiries.size() >= this.maxSessions && !this.expiries.containsKey(id)) {
			this.untracked.increment();
			return false;
		}
		this.expiries.put(id, expiresAt);
		return true;
	}

	/** Checks a session watched again at a later time; nothing when no longer watched. */
	void reschedule(String id, Instant expiresAt) {
		this.expiries.computeIfPresent(id, (key, old) -> expiresAt);
	}

	void forget(String id) {
		this.expiries.remove(id);
	}

	/** Forgets a session, unless it was served again since it was found due. */
	void forget(String id, Instant due) {
		this.expiries.remove(id, due);
	}

	/** The sessions due at {@code now}, with the time each was due. */
	List<Due> due(Instant now) {
		List<Due> due = new ArrayList<>();
		this.expiries.forEach((id, at) -> {
			if (!at.isAfter(now)) {
				due.add(new Due(id, at));
			}
		});
		return due;
	}

	int size() {
		return this.expiries.size();
	}

	/** Sessions not watched because the bound was reached. */
	long untracked() {
		return this.untracked.sum();
	}

	/**
	 * @param id the session id
	 * @param at when it was due
	 */
	record Due(String id, Instant at) {
	}

}
