package io.github.msm.benchmarks.jmh;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.github.msm.session.MemcachedSession;
import io.github.msm.session.MemcachedSessionRepository;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.serializer.KryoSessionSerializer;
import io.github.msm.session.serializer.ClassAllowList;
import io.github.msm.session.storage.MemcachedStore;
import net.spy.memcached.BinaryConnectionFactory;
import net.spy.memcached.CachedData;
import net.spy.memcached.MemcachedClient;
import net.spy.memcached.transcoders.Transcoder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the repository adds to memcached's own cost: {@code findById} + {@code save} of a
 * ~3 KB session (three 1000-character attributes and a counter) against spymemcached's
 * plain {@code get} + {@code set} of the same bytes, over the same loopback connection
 * kind (binary protocol) to one real memcached that the benchmark starts. One node, so
 * no backup write (the backup is queued and off the request thread anyway).
 *
 * <ul>
 * <li>{@code repositoryWrite} vs {@code rawGetSet}: a request that changes its session
 * (the store: one pipelined {@code gets} + {@code get} round trip, then a {@code cas}).</li>
 * <li>{@code repositoryRead} vs {@code rawGet}: a request that only reads it (the save
 * writes nothing while the stored access covers the request).</li>
 * </ul>
 *
 * @author msm-spring-boot
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class RepositoryBenchmark {

	private MemcachedProcess memcached;

	private MemcachedStore store;

	private MemcachedSessionRepository repository;

	private MemcachedClient client;

	private String sessionId;

	private String rawKey;

	private byte[] rawBytes;

	@Setup
	public void setUp() throws IOException, InterruptedException {
		this.memcached = MemcachedProcess.start();
		NodeRing ring = NodeRing.parse(List.of("n1:127.0.0.1:" + this.memcached.port()));
		this.store = new MemcachedStore(ring.nodes(), true, Duration.ofSeconds(1));
		this.repository = new MemcachedSessionRepository(this.store, ring,
				new KryoSessionSerializer(ClassAllowList.of(RealisticSession.PACKAGES)));
		MemcachedSession session = this.repository.createSession();
		for (int i = 1; i <= 3; i++) {
			session.setAttribute("bench" + i, "x".repeat(1000 - 1) + i);
		}
		session.setAttribute("counter", 0);
		session.setLastAccessedTime(Instant.now());
		this.repository.save(session);
		this.sessionId = session.getId();
		this.client = new MemcachedClient(new BinaryConnectionFactory(),
				List.of(new InetSocketAddress("127.0.0.1", this.memcached.port())));
		var stored = this.store.get(ring.nodes().get(0), this.sessionId);
		if (stored == null) {
			throw new IllegalStateException("the session was not stored under its id");
		}
		this.rawBytes = stored.bytes();
		this.rawKey = "raw-" + this.sessionId;
		this.client.set(this.rawKey, 3600, this.rawBytes, RawBytes.INSTANCE);
	}

	@TearDown
	public void tearDown() throws InterruptedException {
		this.client.shutdown(1, TimeUnit.SECONDS);
		this.repository.shutdown();
		this.memcached.close();
	}

	@Benchmark
	public MemcachedSession repositoryWrite() {
		MemcachedSession session = this.repository.findById(this.sessionId);
		Integer counter = session.getAttribute("counter");
		session.setAttribute("counter", counter + 1);
		this.repository.save(session);
		return session;
	}

	@Benchmark
	public Object rawGetSet() throws Exception {
		byte[] bytes = this.client.get(this.rawKey, RawBytes.INSTANCE);
		return this.client.set(this.rawKey, 3600, bytes, RawBytes.INSTANCE).get();
	}

	@Benchmark
	public MemcachedSession repositoryRead() {
		MemcachedSession session = this.repository.findById(this.sessionId);
		for (String name : session.getAttributeNames()) {
			session.getAttribute(name);
		}
		this.repository.save(session);
		return session;
	}

	@Benchmark
	public byte[] rawGet() {
		return this.client.get(this.rawKey, RawBytes.INSTANCE);
	}

	/** Bytes as they are: no flags, no compression. */
	enum RawBytes implements Transcoder<byte[]> {

		INSTANCE;

		@Override
		public boolean asyncDecode(CachedData data) {
			return false;
		}

		@Override
		public CachedData encode(byte[] bytes) {
			return new CachedData(0, bytes, getMaxSize());
		}

		@Override
		public byte[] decode(CachedData data) {
			return data.getData();
		}

		@Override
		public int getMaxSize() {
			return CachedData.MAX_SIZE;
		}

	}

}
