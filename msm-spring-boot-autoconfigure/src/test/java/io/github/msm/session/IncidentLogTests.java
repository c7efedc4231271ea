package io.github.msm.session;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.commons.logging.impl.SimpleLog;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class IncidentLogTests {

	private final RecordingLog log = new RecordingLog();

	@Test
	void warn_RepeatedWithinTheInterval_ShouldLogOneWarnAndTheRestAtDebug() {
		IncidentLog incidents = new IncidentLog(this.log, Duration.ofHours(1));

		for (int i = 0; i < 100; i++) {
			incidents.warn("write-failed", () -> "Session s1 on node n1: not stored");
		}

		assertThat(this.log.lines("WARN")).hasSize(1);
		assertThat(this.log.lines("DEBUG")).hasSize(99);
	}

	@Test
	void warn_OfAnotherKind_ShouldHaveItsOwnWarn() {
		IncidentLog incidents = new IncidentLog(this.log, Duration.ofHours(1));

		incidents.warn("write-failed", () -> "Session s1: not stored");
		incidents.warn("too-large", () -> "Session s2: too large");

		assertThat(this.log.lines("WARN")).hasSize(2);
	}

	@Test
	void warn_AfterTheInterval_ShouldSayHowManyWereLeftOut() {
		IncidentLog incidents = new IncidentLog(this.log, Duration.ofMillis(200));
		incidents.warn("corrupt", () -> "Session s1 is corrupt");
		incidents.warn("corrupt", () -> "Session s2 is corrupt");

		await().atMost(Duration.ofSeconds(5)).until(() -> incidents.warn("corrupt", () -> "Session s3 is corrupt"));

		assertThat(this.log.lines("WARN")).hasSize(2);
		assertThat(this.log.lines("WARN").get(1)).startsWith("Session s3 is corrupt (")
			.contains("more of this kind in the last 200 ms were logged at DEBUG");
	}

	/** Keeps what it logs, at every level. */
	static final class RecordingLog extends SimpleLog {

		private final List<String> lines = new CopyOnWriteArrayList<>();

		RecordingLog() {
			super("incidents");
			setLevel(LOG_LEVEL_ALL);
		}

		@Override
		protected void log(int type, Object message, Throwable t) {
			this.lines.add(((type == LOG_LEVEL_WARN) ? "WARN " : (type == LOG_LEVEL_DEBUG) ? "DEBUG " : "OTHER ") + message);
		}

		List<String> lines(String level) {
			return this.lines.stream()
				.filter((line) -> line.startsWith(level + " "))
				.map((line) -> line.substring(level.length() + 1))
				.toList();
		}

	}

}
