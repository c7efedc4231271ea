package io.github.msm.session;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import io.github.msm.session.SessionChanges.AccessChange;
import io.github.msm.session.SessionCodec.Access;
import io.github.msm.session.SessionCodec.Data;
import org.jspecify.annotations.Nullable;

/**
 * What the next version of a session's data item holds: one request's changes applied
 * on top of a stored version, the same whether it is written first time, after a
 * conflict, under a new id or kept in memory while no node is up.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class VersionPlanner {

	private final SessionLifetime lifetime;

	private final byte serializerId;

	VersionPlanner(SessionLifetime lifetime, byte serializerId) {
		this.lifetime = lifetime;
		this.serializerId = serializerId;
	}

	/**
	 * The new version of the data item: the stored attributes with this request's
	 * changes applied, the interval the request set (else the stored one), and the
	 * request's access unless the stored access already covers it.
	 */
	Data plan(@Nullable StoredSession base, SessionChanges changes) {
		Map<String, byte[]> attributes = new LinkedHashMap<>((base != null) ? base.data().attributes() : Map.of());
		attributes.putAll(changes.reassertedAttributes());
		attributes.putAll(changes.setAttributes());
		changes.removedAttributes().forEach(attributes::remove);
		Duration interval = (base == null || changes.maxInactiveIntervalSet()) ? changes.maxInactiveInterval()
				: base.data().maxInactiveInterval();
		Instant creationTime = (base != null) ? base.data().creationTime() : changes.creationTime();
		long version = (base != null) ? base.version() + 1 : 1;
		return new Data(this.serializerId, creationTime, interval, version, access(base, changes, interval),
				attributes);
	}

	/**
	 * The access a new version carries. A data write costs the same with or without the
	 * access, so a plain access later than the stored one is always written: a read-only
	 * access written (to the validity item of the old version) while this request ran is
	 * then covered by this access's slack, unless the request ran longer than the write
	 * window. A stored slack is cut to the window of the interval in force.
	 */
	private Access access(@Nullable StoredSession base, SessionChanges changes, Duration interval) {
		AccessChange change = changes.access();
		if (base != null) {
			Access stored = base.access();
			Duration slack = min(stored.slack(), this.lifetime.window(interval));
			boolean keep = (change == null)
					|| (change.current() ? !change.lastAccessedTime().isAfter(stored.lastAccessedTime())
							: AccessWriter.isWritten(stored, change));
			if (keep) {
				return this.lifetime.written(stored.lastAccessedTime(), slack, interval);
			}
		}
		if (change == null) {
			return this.lifetime.written(changes.creationTime(), this.lifetime.slack(true, interval), interval);
		}
		return this.lifetime.written(change.lastAccessedTime(), this.lifetime.slack(change.current(), interval),
				interval);
	}

	int dataExpiration(Data data) {
		return this.lifetime.expiration(this.lifetime.dataLifetime(data.maxInactiveInterval(), data.access()));
	}

	private static Duration min(Duration a, Duration b) {
		return (a.compareTo(b) <= 0) ? a : b;
	}

}
