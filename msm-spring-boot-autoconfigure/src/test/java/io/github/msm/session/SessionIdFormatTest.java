package io.github.msm.session;

import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.github.msm.session.node.MemcachedNode;
import io.github.msm.session.node.NodeRing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

class SessionIdFormatTest {

	private final NodeRing ring = NodeRing.parse(List.of("n1:a:1 n2:b:2"));

	private final SessionIdFormat format = new SessionIdFormat(this.ring);

	@Test
	void newId_ShouldBe32LowercaseHexThenNodeId() {
		assertThat(this.format.newId(this.ring.node("n2"))).matches("[0-9a-f]{32}-n2");
	}

	@Test
	void newId_ShouldNotRepeat() {
		assertThat(this.format.newId(this.ring.node("n1"))).isNotEqualTo(this.format.newId(this.ring.node("n1")));
	}

	@Test
	void newId_SinglePlainNode_ShouldCarryNoSuffix() {
		NodeRing single = NodeRing.parse(List.of("localhost:11211"));
		String id = new SessionIdFormat(single).newId(single.nodes().get(0));
		assertThat(id).matches("[0-9a-f]{32}");
	}

	@Test
	void changeId_ShouldKeepNodeAndChangeRandomPart() {
		String id = this.format.newId(this.ring.node("n2"));
		String changed = this.format.changeId(id);
		assertThat(changed).endsWith("-n2").isNotEqualTo(id);
	}

	@Test
	void nodeOf_ValidId_ShouldBeItsNode() {
		assertThat(this.format.nodeOf("0123456789abcdef0123456789abcdef-n2")).isEqualTo(this.ring.node("n2"));
	}

	@ParameterizedTest
	@ValueSource(strings = { "", "abc", "0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef-n9",
			"0123456789ABCDEF0123456789ABCDEF-n1", "0123456789abcdef0123456789abcdef-n1 ",
			"0123456789abcdef0123456789abcdef-n1\r\nset x 0 0 1", "0123456789abcdef 123456789abcdef-n1",
			"0123456789abcdef0123456789abcdef-n1\u0000", "../../etc/passwd", "0123456789abcdef0123456789abcdef--n1",
			"0123456789abcdef0123456789abcdef-n1.ro.ute", "0123456789abcdef0123456789abcdef-n1.ro-ute" })
	void nodeOf_HostileOrForeignId_ShouldBeNull(String id) {
		assertThat(this.format.nodeOf(id)).isNull();
	}

	@Test
	void nodeOf_MutatedIds_ShouldAcceptExactlyTheIdGrammar() {
		Pattern suffixed = Pattern.compile("[0-9a-f]{32}-([A-Za-z0-9_]{1,32})(\\.[A-Za-z0-9_]{1,32})?");
		Pattern plain = Pattern.compile("[0-9a-f]{32}(\\.[A-Za-z0-9_]{1,32})?");
		SessionIdFormat single = new SessionIdFormat(NodeRing.parse(List.of("localhost:11211")));
		String alphabet = "0af9gAZz_-.. \u00e9";
		Random random = new Random(17);
		List<String> seeds = List.of("0123456789abcdef0123456789abcdef-n1", "0123456789abcdef0123456789abcdef-n2.app1",
				"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef.app_1",
				"0123456789abcdef0123456789abcdef-n1." + "r".repeat(32), "0123456789abcdef0123456789abcdef-n1." + "r".repeat(33));
		for (int n = 0; n < 20_000; n++) {
			StringBuilder id = new StringBuilder(seeds.get(random.nextInt(seeds.size())));
			for (int edits = random.nextInt(3); edits > 0 && id.length() > 0; edits--) {
				int at = random.nextInt(id.length());
				char c = alphabet.charAt(random.nextInt(alphabet.length()));
				switch (random.nextInt(3)) {
					case 0 -> id.setCharAt(at, c);
					case 1 -> id.insert(at, c);
					default -> id.deleteCharAt(at);
				}
			}
			String candidate = id.toString();
			Matcher matcher = suffixed.matcher(candidate);
			MemcachedNode expected = matcher.matches() ? this.ring.node(matcher.group(1)) : null;
			assertThat(this.format.nodeOf(candidate)).as(candidate).isEqualTo(expected);
			assertThat(this.format.isLocal(candidate)).as(candidate).isEqualTo(plain.matcher(candidate).matches());
			assertThat(single.nodeOf(candidate)).as(candidate)
				.isEqualTo(plain.matcher(candidate).matches() ? single.nodeOf(seeds.get(2)) : null);
		}
	}

	@Test
	void nodeOf_VeryLongId_ShouldBeNull() {
		assertThat(this.format.nodeOf("a".repeat(300))).isNull();
	}

	@Test
	void nodeOf_Null_ShouldBeNull() {
		assertThat(this.format.nodeOf(null)).isNull();
	}

}
