package io.github.msm.session.serializer;

import java.util.Arrays;
import java.util.function.Consumer;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * {@link SessionSerializer} using Kryo 5, restricted by a {@link ClassAllowList}.
 *
 * <p>
 * Compact and fast, and it does not need classes to be {@code Serializable}. Classes are
 * written by name rather than by registration id, so servers read each other's sessions
 * regardless of the order in which their Kryo instances registered classes. A class
 * name read from memcached is checked before the class is loaded; lengths read from it
 * are checked against the bytes actually present, and depth and object count are bounded
 * by the {@link DeserializationLimits}, so corrupt or planted bytes end in a
 * {@link SessionSerializationException}, never in an instantiated gadget, an
 * {@link OutOfMemoryError} or a request thread busy hashing a crafted graph.
 *
 * <p>
 * Kryo instances are not thread-safe; each call borrows one from a pool, together with
 * an output buffer it keeps between calls (a fresh 4 KB buffer per value was a good part
 * of the cost of small values). A buffer that grew past {@value #MAX_KEPT_BUFFER_SIZE}
 * bytes for a large value is dropped after that call rather than kept in the pool.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class KryoSessionSerializer implements SessionSerializer {

	/**
	 * The {@link #id()} of this serializer.
	 */
	public static final byte ID = 1;

	private static final int POOL_SIZE = 64;

	private static final int INITIAL_BUFFER_SIZE = 4096;

	private final ClassAllowList allowList;

	/**
	 * Largest output buffer kept for the next call; larger ones are dropped after use.
	 */
	static final int MAX_KEPT_BUFFER_SIZE = 64 * 1024;

	private final Pool<PooledKryo> pool;

	/**
	 * Create a serializer that loads classes with the default class loader (usually the
	 * thread context class loader at construction time).
	 * @param allowList the classes that may be read and written
	 */
	public KryoSessionSerializer(ClassAllowList allowList) {
		this(allowList, JdkSessionSerializer.defaultClassLoader());
	}

	/**
	 * Create a serializer that loads classes with the given class loader, which matters
	 * with executable jars and development-time restarts.
	 * @param allowList the classes that may be read and written
	 * @param classLoader the class loader for application classes
	 */
	public KryoSessionSerializer(ClassAllowList allowList, ClassLoader classLoader) {
		this(allowList, classLoader, (kryo) -> {
		});
	}

	/**
	 * Create a serializer whose Kryo instances are customized, for example to register
	 * a faster serializer for an application class. Registrations choose serializers
	 * only: classes are still written by name, and the allow-list still applies.
	 * @param allowList the classes that may be read and written
	 * @param classLoader the class loader for application classes
	 * @param customizer called once for every new Kryo instance
	 */
	public KryoSessionSerializer(ClassAllowList allowList, ClassLoader classLoader, Consumer<Kryo> customizer) {
		Assert.notNull(allowList, "'allowList' must not be null");
		Assert.notNull(classLoader, "'classLoader' must not be null");
		Assert.notNull(customizer, "'customizer' must not be null");
		this.allowList = allowList;
		this.pool = new Pool<>(true, true, POOL_SIZE) {

			@Override
			protected PooledKryo create() {
				Kryo kryo = SessionKryo.create(allowList, classLoader);
				customizer.accept(kryo);
				return new PooledKryo(kryo);
			}

		};
	}

	@Override
	public byte id() {
		return ID;
	}

	@Override
	public byte[] serialize(Object value) {
		byte[] bytes = write(value, null);
		Assert.state(bytes != null, "a write compared with nothing always answers bytes");
		return bytes;
	}

	/**
	 * Serializes into the pooled buffer and compares it there: no bytes are allocated
	 * for a value that did not change.
	 */
	@Override
	public byte @Nullable [] serializeIfChanged(Object value, byte[] expected) {
		Assert.notNull(expected, "'expected' must not be null");
		return write(value, expected);
	}

	/**
	 * Writes the value into a pooled Kryo's buffer; {@code null} when it equals
	 * {@code expected}, else a copy of the bytes.
	 */
	private byte @Nullable [] write(Object value, byte @Nullable [] expected) {
		Assert.notNull(value, "'value' must not be null");
		PooledKryo pooled = this.pool.obtain();
		try {
			Output output = pooled.output;
			output.reset();
			pooled.kryo.writeClassAndObject(output, value);
			int length = output.position();
			boolean same = expected != null && length == expected.length
					&& Arrays.equals(output.getBuffer(), 0, length, expected, 0, expected.length);
			byte[] bytes = same ? null : output.toBytes();
			if (output.getBuffer().length > MAX_KEPT_BUFFER_SIZE) {
				pooled.output = new Output(INITIAL_BUFFER_SIZE, -1);
			}
			this.pool.free(pooled);
			return bytes;
		}
		catch (RuntimeException | LinkageError ex) {
			// The failed Kryo is dropped rather than reasoned about
			throw new SessionSerializationException(
					"Cannot serialize a value of type " + value.getClass().getName() + ": " + ex.getMessage(), ex);
		}
	}

	@Override
	public Object deserialize(byte[] bytes) {
		Assert.notNull(bytes, "'bytes' must not be null");
		PooledKryo pooled = this.pool.obtain();
		Object value;
		try {
			value = pooled.kryo.readClassAndObject(new KryoBoundedInput(bytes));
			this.pool.free(pooled);
		}
		catch (RuntimeException ex) {
			throw new SessionSerializationException("Cannot deserialize a session attribute: " + ex.getMessage(), ex);
		}
		catch (Error ex) {
			// The Kryo is dropped: its depth and references are those of the failed read
			DeserializationLimits.rethrowIfFatal(ex);
			throw new SessionSerializationException("Cannot deserialize a session attribute: " + ex, ex);
		}
		if (value == null) {
			throw new SessionSerializationException("Cannot deserialize a session attribute: the bytes encode null");
		}
		return value;
	}

	/**
	 * A Kryo with the output buffer it writes into, both used by one thread at a time.
	 */
	private static final class PooledKryo {

		private final Kryo kryo;

		private Output output = new Output(INITIAL_BUFFER_SIZE, -1);

		PooledKryo(Kryo kryo) {
			this.kryo = kryo;
		}

	}

	@Override
	public String toString() {
		return "KryoSessionSerializer " + this.allowList.getPackages();
	}

}
