package io.github.msm.session;

import org.jspecify.annotations.Nullable;

/**
 * Tells whoever watches the current request whether the request changed a session it
 * had: set attributes, removed them, changed the interval or the id, or deleted it. An
 * access that was only read, or only had its time refreshed, is no change.
 *
 * <p>
 * The locking filter's {@code auto} mode learns from this which routes only read their
 * session. The repository raises the signal at save and delete, on the thread that
 * runs the request (or its async dispatch); outside a watched request it does nothing.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class SessionWriteSignal {

	private static final ThreadLocal<SessionWriteSignal> current = new ThreadLocal<>();

	private volatile boolean raised;

	/**
	 * Watches the current thread's request with this signal until {@link #unbind()}.
	 * @return the signal bound before, to restore at unbind (a nested dispatch)
	 */
	public @Nullable SessionWriteSignal bind() {
		SessionWriteSignal previous = current.get();
		current.set(this);
		return previous;
	}

	/**
	 * Stops watching the current thread.
	 * @param previous what {@link #bind()} returned
	 */
	public static void unbind(@Nullable SessionWriteSignal previous) {
		if (previous != null) {
			current.set(previous);
		}
		else {
			current.remove();
		}
	}

	/** Whether the watched request changed a session. */
	public boolean isRaised() {
		return this.raised;
	}

	/** A session of the current request changed, if anyone watches it. */
	static void raise() {
		SessionWriteSignal signal = current.get();
		if (signal != null) {
			signal.raised = true;
		}
	}

}
