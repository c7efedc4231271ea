package io.github.msm.session;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Bad input never reaches memcached as a key, never fails a request and never harms
 * other sessions: hostile ids, corrupt or foreign bytes, oversize sessions.
 */
class HostileInputIT extends RepositoryITSupport {

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(2);

	@Override
	MemcachedServers servers() {
		return memcached;
	}

	@ParameterizedTest
	@ValueSource(strings = { "", " ", "nonsense", "0123456789abcdef0123456789abcdef-n7",
			"0123456789abcdef0123456789abcdef-n1\r\nflush_all", "0123456789abcdef0123456789abcdef-n1 x",
			"0123456789abcdef0123456789abcdef-n1\u0001", "0123456789ABCDEF0123456789ABCDEF-n1",
			"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYtbjE=" })
	void findById_HostileId_ShouldBeNullWithoutAnyMemcachedCall(String id) {
		assertThat(this.repository.findById(id)).isNull();
		this.repository.deleteById(id);

		assertThat(memcached.stat("cmd_get")).isZero();
		assertThat(memcached.stat("delete_misses") + memcached.stat("delete_hits")).isZero();
	}

	@Test
	void findById_IdOver250Bytes_ShouldBeNullWithoutAnyMemcachedCall() {
		assertThat(this.repository.findById("0123456789abcdef".repeat(20) + "-n1")).isNull();
		assertThat(memcached.stat("cmd_get")).isZero();
	}

	@Test
	void findById_GarbageBytes_ShouldBeNullAndRemoved() {
		String id = "0123456789abcdef0123456789abcdef-n1";
		memcached.node("n1").set(id, "garbage".getBytes(StandardCharsets.UTF_8), 0);

		assertThat(this.repository.findById(id)).isNull();
		assertThat(this.registry.counter("msm.session.unreadable").count()).isEqualTo(1);
		await().untilAsserted(() -> assertThat(memcached.node("n1").get(id)).isNull());
	}

	@Test
	void findById_TruncatedSession_ShouldBeNull() {
		MemcachedSession session = sessionWith("k", "v");
		byte[] stored = memcached.node(nodeOf(session)).get(session.getId());
		byte[] truncated = java.util.Arrays.copyOf(stored, stored.length - 3);
		memcached.node(nodeOf(session)).set(session.getId(), truncated, 0);

		assertThat(this.repository.findById(session.getId())).isNull();
	}

	@Test
	void findById_HugeLengthPrefix_ShouldBeNullWithoutHugeAllocation() {
		String id = "0123456789abcdef0123456789abcdef-n1";
		Map<String, byte[]> attributes = new LinkedHashMap<>();
		attributes.put("k", new byte[] { 1, 2, 3 });
		byte[] bytes = data(kryo().id(), attributes);
		// attribute count of 2^31-1
		bytes[51] = 0x7f;
		bytes[52] = (byte) 0xff;
		bytes[53] = (byte) 0xff;
		bytes[54] = (byte) 0xff;
		memcached.node("n1").set(id, bytes, 0);

		assertThat(this.repository.findById(id)).isNull();
	}

	@Test
	void findById_SessionWrittenByAnotherSerializer_ShouldBeNull() {
		String id = "0123456789abcdef0123456789abcdef-n1";
		byte[] bytes = data((byte) 99, Map.of());
		memcached.node("n1").set(id, bytes, 0);

		assertThat(this.repository.findById(id)).isNull();
	}

	@Test
	void findById_SessionWrittenByAnotherSerializer_ShouldBeLeftForServersThatCanReadIt() {
		String id = "0123456789abcdef0123456789abcdef-n1";
		byte[] bytes = data((byte) 99, Map.of());
		memcached.node("n1").set(id, bytes, 0);
		this.repository.findById(id);

		assertThat(memcached.node("n1").get(id)).isEqualTo(bytes);
		assertThat(this.registry.counter("msm.session.unreadable").count()).isEqualTo(1);
	}

	@Test
	void findById_CorruptValidityItem_ShouldStillFindTheSession() {
		MemcachedSession session = sessionWith("k", "v");
		memcached.node(nodeOf(session)).set("validity:" + session.getId(), "junk".getBytes(StandardCharsets.UTF_8), 0);

		MemcachedSession found = this.repository.findById(session.getId());

		assertThat(found).isNotNull();
		assertThat((String) found.getAttribute("k")).isEqualTo("v");
	}

	@Test
	void getAttribute_UnreadableAttribute_ShouldBeDroppedAndOthersKept() {
		String id = sessionWithUnreadableAttribute("bad");

		MemcachedSession session = this.repository.findById(id);

		assertThat(session).isNotNull();
		assertThat((Object) session.getAttribute("bad")).isNull();
		assertThat((String) session.getAttribute("good")).isEqualTo("fine");
		assertThat(this.registry.counter("msm.attribute.unreadable").count()).isEqualTo(1);
	}

	@Test
	void getAttributeNames_AfterUnreadableAttributeWasRead_ShouldHideIt() {
		String id = sessionWithUnreadableAttribute("bad");
		MemcachedSession session = this.repository.findById(id);
		session.getAttribute("bad");

		assertThat(session.getAttributeNames()).containsExactly("good");
	}

	@Test
	void save_AfterUnreadableAttributeWasRead_ShouldKeepItsStoredBytes() {
		String id = sessionWithUnreadableAttribute("bad");
		MemcachedSession session = this.repository.findById(id);
		session.getAttribute("bad");
		session.setAttribute("other", "changed");
		this.repository.save(session);

		SessionCodec.Data stored = SessionCodec.decodeData(memcached.node("n1").get(id));
		assertThat(stored.attributes()).containsKeys("good", "bad", "other");
		assertThat(stored.attributes().get("bad")).containsExactly(0x7f, 0x01, 0x02);
	}

	@Test
	void save_OversizeSession_ShouldBeRefusedAndCounted() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("huge", new byte[2 * 1024 * 1024]);
		this.repository.save(session);

		assertThat(this.repository.findById(session.getId())).isNull();
		assertThat(this.registry.counter("msm.session.saves", "outcome", "too-large").count()).isEqualTo(1);
		assertThat(memcached.stat("cmd_set")).isZero();
	}

	@Test
	void save_OversizeChange_ShouldKeepStoredVersionAndOtherSessions() {
		MemcachedSession other = sessionWith("k", "other");
		MemcachedSession session = sessionWith("k", "before");
		MemcachedSession read = this.repository.findById(session.getId());
		read.setAttribute("huge", new byte[2 * 1024 * 1024]);
		this.repository.save(read);

		assertThat((String) this.repository.findById(session.getId()).getAttribute("k")).isEqualTo("before");
		assertThat((String) this.repository.findById(other.getId()).getAttribute("k")).isEqualTo("other");
	}

	@Test
	void save_SessionJustUnderServerLimit_ShouldBeStored() {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("big", new byte[1024 * 1024 - 2048]);
		this.repository.save(session);

		assertThat(this.repository.findById(session.getId())).isNotNull();
	}

	@Test
	void save_MaxItemSizeAboveServerLimit_ShouldStillServeAndKeepConnection() {
		this.repository.setMaxItemSize(4 * 1024 * 1024);
		MemcachedSession session = this.repository.createSession();
		session.setAttribute("huge", new byte[2 * 1024 * 1024]);
		this.repository.save(session);
		MemcachedSession small = sessionWith("k", "v");

		assertThat(this.repository.findById(session.getId())).isNull();
		assertThat(this.repository.findById(small.getId())).isNotNull();
		assertThat(this.registry.counter("msm.session.saves", "outcome", "too-large").count()).isEqualTo(1);
	}

	/** Plants a session holding a readable "good" attribute and an unreadable one. */
	private static String sessionWithUnreadableAttribute(String name) {
		String id = "0123456789abcdef0123456789abcdef-n1";
		Map<String, byte[]> attributes = new LinkedHashMap<>();
		attributes.put("good", kryo().serialize("fine"));
		attributes.put(name, new byte[] { 0x7f, 0x01, 0x02 });
		memcached.node("n1").set(id, data(kryo().id(), attributes), 0);
		return id;
	}

	private MemcachedSession sessionWith(String name, String value) {
		MemcachedSession session = this.repository.createSession();
		session.setAttribute(name, value);
		this.repository.save(session);
		return session;
	}

	private String nodeOf(MemcachedSession session) {
		return this.repository.nodeIdOf(session.getId());
	}

	private static byte[] data(byte serializerId, Map<String, byte[]> attributes) {
		Instant now = Instant.now();
		SessionCodec.Access access = new SessionCodec.Access(now, Duration.ZERO, now.getEpochSecond() + 3600);
		return SessionCodec.encodeData(
				new SessionCodec.Data(serializerId, now, Duration.ofMinutes(30), 1, access, attributes));
	}

}
