package io.github.msm.session.node;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
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
 * <p>
 * Each change is logged once: a node going down at WARN, coming back at INFO, coming
 * back empty (restarted) at WARN. Requests that skip a down node log nothing.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class NodeAvailability {

	private static final Log logger = LogFactory.getLog(NodeAvailability.class);

	private final Map<MemcachedNode, State> states = new LinkedHashMap<>();

	private final List<Listener> listeners = new CopyOnWriteArrayList<>();

	private final Set<MemcachedNode> drained = ConcurrentHashMap.newKeySet();

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

	/** Every node, in ring order. */
	public List<MemcachedNode> nodes() {
		return List.copyOf(this.states.keySet());
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
		synchronized (state) {
			boolean wasUp = state.up;
			state.up = false;
			state.lastError = reason;
			if (wasUp) {
				state.since = this.clock.instant();
				logger.warn("memcached node " + node + " is down (" + reason
						+ "); requests skip it until it answers again");
				notifyListeners((listener) -> listener.down(node, reason));
			}
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
		synchronized (state) {
			boolean wasDown = !state.up;
			state.up = true;
			state.lastError = null;
			if (restarted) {
				state.restarts++;
			}
			if (wasDown) {
				state.since = this.clock.instant();
			}
			if (restarted) {
				logger.warn("memcached node " + node + (wasDown ? " is back, " : " ")
						+ "restarted: the items it held are lost");
			}
			else if (wasDown) {
				logger.info("memcached node " + node + " is back");
			}
			if (wasDown || restarted) {
				notifyListeners((listener) -> listener.up(node, restarted));
			}
		}
	}

	/**
	 * Drains a node, on this server: no new sessions start on it and it holds no new
	 * backups while another node can take them, and sessions on it move to another node
	 * at their next access, as from a failover node. It stays up: nothing is lost, reads
	 * still reach it. For maintenance; {@link #undrain} ends it.
	 * @param node the node
	 * @return whether it was not drained before
	 */
	public boolean drain(MemcachedNode node) {
		boolean changed = this.states.containsKey(node) && this.drained.add(node);
		if (changed) {
			logger.info("memcached node " + node + " is drained: no new sessions, sessions on it move off at their"
					+ " next access");
		}
		return changed;
	}

	/**
	 * Ends the drain of a node: it takes new sessions again.
	 * @param node the node
	 * @return whether it was drained
	 */
	public boolean undrain(MemcachedNode node) {
		boolean changed = this.drained.remove(node);
		if (changed) {
			logger.info("memcached node " + node + " is no longer drained");
		}
		return changed;
	}

	/** Whether the node is drained on this server. */
	public boolean isDrained(MemcachedNode node) {
		return !this.drained.isEmpty() && this.drained.contains(node);
	}

	/** How often the node came back possibly empty; grows, never shrinks. */
	public long restarts(MemcachedNode node) {
		State state = this.states.get(node);
		return (state != null) ? state.restarts : 0;
	}

	/**
	 * The node's state for operators (health, actuator).
	 * @param node the node
	 * @return its state; a node that is not one of this instance's reads as down
	 */
	public Status status(MemcachedNode node) {
		State state = this.states.get(node);
		if (state == null) {
			return new Status(node, false, null, "not a configured node", 0);
		}
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
	 * Tells every listener; one that throws is logged and does not keep the others (or
	 * the operation that noticed the change) from going on.
	 */
	private void notifyListeners(Consumer<Listener> call) {
		for (Listener listener : this.listeners) {
			try {
				call.accept(listener);
			}
			catch (RuntimeException ex) {
				logger.warn("NodeAvailability listener " + listener + " failed", ex);
			}
		}
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

	/**
	 * Told when a node goes down or comes back, in the order the node's state changed.
	 * Called on the thread that noticed the change (a request thread, the store's probe
	 * thread or one of its workers, never memcached's IO thread) while the node's state is
	 * locked: must not block, nor mark nodes up or down itself.
	 */
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
