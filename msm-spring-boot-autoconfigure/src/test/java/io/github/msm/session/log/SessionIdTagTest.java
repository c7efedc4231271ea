package io.github.msm.session.log;

import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SessionIdTagTest {

	private static final String ID = "5f0c2b7e9a1d4c3b8e6f0a2d4c6e8b1a-n1";

	@Test
	void of_ASessionId_ShouldBeAHashAndEightHexDigits() {
		assertThat(SessionIdTag.of(ID)).matches("#[0-9a-f]{8}");
	}

	@Test
	void of_ASessionId_ShouldNotContainAnyPartOfIt() {
		assertThat(SessionIdTag.of(ID)).doesNotContain(ID.substring(0, 8), "n1");
	}

	@Test
	void of_TheSameIdTwice_ShouldGiveTheSameTag() {
		assertThat(SessionIdTag.of(ID)).isEqualTo(SessionIdTag.of(new String(ID)));
	}

	@Test
	void of_TwoIds_ShouldGiveDifferentTags() {
		assertThat(SessionIdTag.of(ID)).isNotEqualTo(SessionIdTag.of(ID.replace("-n1", "-n2")));
	}

	@Test
	void of_Null_ShouldSayNone() {
		assertThat(SessionIdTag.of((String) null)).isEqualTo("#none");
	}

	@Test
	void of_SeveralIds_ShouldJoinTheirTags() {
		assertThat(SessionIdTag.of(List.of("a", "b"))).isEqualTo(SessionIdTag.of("a") + ", " + SessionIdTag.of("b"));
	}

	@Test
	void ofKey_ShouldMarkItAsAKey() {
		assertThat(SessionIdTag.ofKey("validity:" + ID)).matches("key#[0-9a-f]{8}");
	}

}
