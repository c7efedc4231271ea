package io.github.msm.session.event;

import io.github.msm.session.MemcachedSession;
import io.github.msm.session.SessionLifecycleListener;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.context.ApplicationEvent;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.session.MapSession;
import org.springframework.session.Session;
import org.springframework.session.events.SessionCreatedEvent;
import org.springframework.session.events.SessionDeletedEvent;
import org.springframework.util.Assert;

/**
 * Session events of non-sticky mode: {@link SessionCreatedEvent} when a session is first
 * stored, {@link SessionDeletedEvent} when it is deleted (invalidated) through this
 * server, and, through the {@link ExpiryWatch}, one
 * {@link org.springframework.session.events.SessionExpiredEvent} across the fleet when it
 * expires. Spring Session's {@code SessionEventHttpSessionListenerAdapter} turns them into
 * {@code HttpSessionListener} calls.
 *
 * <p>
 * A listener that fails is logged; it never fails the request.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public class SessionEvents implements SessionLifecycleListener {

	private static final Log logger = LogFactory.getLog(SessionEvents.class);

	private final Object source;

	private final ApplicationEventPublisher publisher;

	private final ExpiryWatch expiry;

	/**
	 * @param source the events' source (the repository)
	 * @param publisher where the events go
	 * @param expiry watches the sessions served for their expiry
	 */
	public SessionEvents(Object source, ApplicationEventPublisher publisher, ExpiryWatch expiry) {
		Assert.notNull(source, "source must not be null");
		Assert.notNull(publisher, "publisher must not be null");
		Assert.notNull(expiry, "expiry must not be null");
		this.source = source;
		this.publisher = publisher;
		this.expiry = expiry;
	}

	@Override
	public void served(MemcachedSession session, boolean created) {
		this.expiry.track(session);
		if (created) {
			publish(this.publisher, new SessionCreatedEvent(this.source, session));
		}
	}

	@Override
	public void deleted(String id, @Nullable MemcachedSession session) {
		this.expiry.forget(id);
		Session deleted = (session != null) ? session : new MapSession(id);
		publish(this.publisher, new SessionDeletedEvent(this.source, deleted));
	}

	/** The watch that publishes expired events. */
	public ExpiryWatch expiry() {
		return this.expiry;
	}

	/** Publishes an event; a listener's failure is logged, never thrown. */
	static void publish(ApplicationEventPublisher publisher, ApplicationEvent event) {
		try {
			publisher.publishEvent(event);
		}
		catch (RuntimeException ex) {
			logger.warn("Session event listener failed on " + event.getClass().getSimpleName(), ex);
		}
	}

}
