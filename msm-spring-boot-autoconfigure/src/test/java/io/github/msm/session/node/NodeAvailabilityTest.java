package io.github.msm.session.node;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.github.msm.test.MutableClock;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class NodeAvailabilityTest {

	private static final MemcachedNode N1 = new MemcachedNode("n1", "host1", 11211);

	private static final MemcachedNode N2 = new MemcachedNode("n2", "host2", 11211);

	private final MutableClock clock = new MutableClock(Duration.ZERO);

	private final NodeAvailability availability = new NodeAvailability(List.of(N1, N2), this.clock);

	private final List<String> events = new ArrayList<>();

	private final NodeAvailability.Listener recorder = new NodeAvailability.Listener() {

		@Override
		public void down(MemcachedNode node, String reason) {
			NodeAvailabilityTest.this.events.add("down " + node.id() + ": " + reason);
		}

		@Override
		public void up(MemcachedNode node, boolean restarted) {
			NodeAvailabilityTest.this.events.add("up " + node.id() + (restarted ? " restarted" : ""));
		}

	};

	@Test
	void newInstance_ShouldHaveEveryNodeUp() {
		assertThat(this.availability.isAvailable(N1)).isTrue();
		assertThat(this.availability.available()).containsExactly(N1, N2);
		assertThat(this.availability.status(N1)).isEqualTo(new NodeAvailability.Status(N1, true, null, null, 0));
	}

	@Test
	void failed_ShouldMarkDownAndTellListenersOnce() {
		this.availability.addListener(this.recorder);

		this.availability.failed(N1, "timed out");
		this.availability.failed(N1, "cancelled");

		assertThat(this.availability.isAvailable(N1)).isFalse();
		assertThat(this.availability.available()).containsExactly(N2);
		assertThat(this.events).containsExactly("down n1: timed out");
		assertThat(this.availability.status(N1).lastError()).isEqualTo("cancelled");
	}

	@Test
	void failed_ShouldRecordWhenTheNodeWentDown() {
		Instant before = this.clock.instant();
		this.availability.failed(N1, "timed out");
		Instant down = this.availability.status(N1).since();
		this.clock.advance(Duration.ofHours(1));
		this.availability.failed(N1, "timed out");

		assertThat(down).isBetween(before, before.plusSeconds(60));
		assertThat(this.availability.status(N1).since()).isEqualTo(down);
	}

	@Test
	void answered_AfterFailure_ShouldMarkUpWithoutCountingARestart() {
		this.availability.failed(N1, "timed out");
		this.availability.addListener(this.recorder);

		this.availability.answered(N1, false);

		assertThat(this.availability.isAvailable(N1)).isTrue();
		assertThat(this.availability.restarts(N1)).isZero();
		assertThat(this.events).containsExactly("up n1");
	}

	@Test
	void answered_Restarted_ShouldCountEveryRestart() {
		this.availability.addListener(this.recorder);
		this.availability.failed(N1, "connection lost");

		this.availability.answered(N1, true);
		this.availability.answered(N1, true);

		assertThat(this.availability.restarts(N1)).isEqualTo(2);
		assertThat(this.availability.restarts(N2)).isZero();
		assertThat(this.events).containsExactly("down n1: connection lost", "up n1 restarted", "up n1 restarted");
	}

	@Test
	void answered_UpNodeNotRestarted_ShouldTellNobody() {
		this.availability.addListener(this.recorder);

		this.availability.answered(N1, false);

		assertThat(this.events).isEmpty();
	}

	@Test
	void failed_ListenerThrows_ShouldStillMarkDownAndTellTheOtherListeners() {
		this.availability.addListener(new NodeAvailability.Listener() {

			@Override
			public void down(MemcachedNode node, String reason) {
				throw new IllegalStateException("broken listener");
			}

			@Override
			public void up(MemcachedNode node, boolean restarted) {
			}

		});
		this.availability.addListener(this.recorder);

		this.availability.failed(N1, "timed out");

		assertThat(this.availability.isAvailable(N1)).isFalse();
		assertThat(this.events).containsExactly("down n1: timed out");
	}

	@Test
	void unknownNode_ShouldReadAsDownAndIgnoreChanges() {
		MemcachedNode unknown = new MemcachedNode("n9", "host9", 11211);

		this.availability.answered(unknown, true);

		assertThat(this.availability.isAvailable(unknown)).isFalse();
		assertThat(this.availability.restarts(unknown)).isZero();
		assertThat(this.availability.status(unknown).up()).isFalse();
	}

}
