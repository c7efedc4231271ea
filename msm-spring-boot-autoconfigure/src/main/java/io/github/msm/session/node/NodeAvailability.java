package io.github.msm.session.node;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.jspecify.annotations.Nullable;

/**
 * Which memcached nodes are up: the one place the rest of the store asks before it
 * touches a node, so that a dead or hung node costs one failed operation, not one per
 * request.
 *
 * <p>
 * An operation that fails or times out marks its node down at once; a background probe
 * marks it up when it answers again. A node that comes back may have lost its items (a
 * restart): each such return raises the node's {@linkplain #restarts(MemcachedNode)
 * restart count}, so that sessions whose copies lived there can be written again.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class NodeAvailability {

	private final Map<MemcachedNode, State> states = new LinkedHashMap<>();

	private final List<Listener> listeners = new CopyOnWriteArrayList<>();

	private final Clock clock;

	/**
	 * @param nodes every node, all assumed up until an operation or probe says otherwise
	 * @param clock the clock for status times
	 */
	public NodeAvailability(Collection<MemcachedNode> nodes, Clock clock) {
		this.clock = clock;
		for (MemcachedNode node : nodes) {
			this.states.put(node, new State());
		}
	}

	/** Whether requests may use the node. */
	public boolean isAvailable(MemcachedNode node) {
		State state = this.states.get(node);
		return state != null && state.up;
	}

	/** The nodes that are up, in ring order. */
	public List<MemcachedNode> available() {
		List<MemcachedNode> up = new ArrayList<>();
		this.states.forEach((node, state) -> {
			if (state.up) {
				up.add(node);
			}
		});
		return up;
	}

	/** Marks a node down after a failed or timed-out operation. */
	public void failed(MemcachedNode node, String reason) {
		State state = this.states.get(node);
		if (state == null) {
			return;
		}
		boolean wasUp;
		synchronized (state) {
			wasUp = state.up;
			state.up = false;
			state.lastError = reason;
			if (wasUp) {
				state.since = this.clock.instant();
			}
		}
		if (wasUp) {
			this.listeners.forEach((listener) -> listener.down(node, reason));
		}
	}

	/**
	 * Marks a node up after it answered.
	 * @param node the node
	 * @param restarted whether it may have lost its items meanwhile (it restarted, or it
	 * was unreachable and nothing proves it kept them)
	 */
	public void answered(MemcachedNode node, boolean restarted) {
		State state = this.states.get(node);
		if (state == null) {
			return;
		}
		boolean wasDown;
		synchronized (state) {
			wasDown = !state.up;
			state.up = true;
			if (restarted) {
				state.restarts++;
			}
			if (wasDown) {
				state.since = this.clock.instant();
			}
		}
		if (wasDown || restarted) {
			this.listeners.forEach((listener) -> listener.up(node, restarted));
		}
	}

	/** How often the node came back possibly empty; grows, never shrinks. */
	public long restarts(MemcachedNode node) {
		State state = this.states.get(node);
		return (state != null) ? state.restarts : 0;
	}

	/** The node's state for operators (health, actuator). */
	public Status status(MemcachedNode node) {
		State state = this.states.get(node);
		synchronized (state) {
			return new Status(node, state.up, state.since, state.lastError, state.restarts);
		}
	}

	public void addListener(Listener listener) {
		this.listeners.add(listener);
	}

	public void removeListener(Listener listener) {
		this.listeners.remove(listener);
	}

	/**
	 * A node's state.
	 * @param node the node
	 * @param up whether it is up
	 * @param since when it last went up or down ({@code null}: up since the start)
	 * @param lastError the last failure, if any
	 * @param restarts how often it came back possibly empty
	 */
	public record Status(MemcachedNode node, boolean up, @Nullable Instant since, @Nullable String lastError,
			long restarts) {
	}

	/** Told when a node goes down or comes back. Must not block. */
	public interface Listener {

		void down(MemcachedNode node, String reason);

		void up(MemcachedNode node, boolean restarted);

	}

	private static final class State {

		volatile boolean up = true;

		volatile long restarts;

		@Nullable Instant since;

		@Nullable String lastError;

	}

}
