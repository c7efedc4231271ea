package io.github.msm.session.serializer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;

import org.springframework.util.Assert;
import org.springframework.util.ClassUtils;

/**
 * {@link SessionSerializer} using Java serialization, restricted by a
 * {@link ClassAllowList}.
 *
 * <p>
 * Slower and larger than {@link KryoSessionSerializer}, but it honours every class's own
 * {@code writeObject}/{@code readObject} logic and needs no tuning, which makes it the
 * conservative choice. Each stream gets its own {@link java.io.ObjectInputFilter}, so the
 * allow-list and the {@link DeserializationLimits} apply no matter how the JVM-wide filter
 * is configured, and a JVM-wide filter, if set, still applies too. Bytes that cannot be
 * read, including those whose hashing overflows the stack, end in a
 * {@link SessionSerializationException}.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public final class JdkSessionSerializer implements SessionSerializer {

	/**
	 * The {@link #id()} of this serializer.
	 */
	public static final byte ID = 2;

	private final ClassAllowList allowList;

	private final ClassLoader classLoader;

	/**
	 * Create a serializer that loads classes with the default class loader (usually the
	 * thread context class loader at construction time).
	 * @param allowList the classes that may be deserialized
	 */
	public JdkSessionSerializer(ClassAllowList allowList) {
		this(allowList, defaultClassLoader());
	}

	/**
	 * Create a serializer that loads classes with the given class loader, which matters
	 * with executable jars and development-time restarts.
	 * @param allowList the classes that may be deserialized
	 * @param classLoader the class loader for application classes
	 */
	public JdkSessionSerializer(ClassAllowList allowList, ClassLoader classLoader) {
		Assert.notNull(allowList, "'allowList' must not be null");
		Assert.notNull(classLoader, "'classLoader' must not be null");
		this.allowList = allowList;
		this.classLoader = classLoader;
	}

	@Override
	public byte id() {
		return ID;
	}

	@Override
	public byte[] serialize(Object value) {
		Assert.notNull(value, "'value' must not be null");
		if (!(value instanceof Serializable)) {
			throw new SessionSerializationException("Cannot serialize a value of type " + value.getClass().getName()
					+ ": it does not implement java.io.Serializable");
		}
		ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
		try (ObjectOutputStream out = new AllowListObjectOutputStream(bytes, this.allowList)) {
			out.writeObject(value);
		}
		catch (IOException | RuntimeException ex) {
			throw new SessionSerializationException(
					"Cannot serialize a value of type " + value.getClass().getName() + ": " + ex, ex);
		}
		return bytes.toByteArray();
	}

	@Override
	public Object deserialize(byte[] bytes) {
		Assert.notNull(bytes, "'bytes' must not be null");
		try (ObjectInputStream in = new AllowListObjectInputStream(new ByteArrayInputStream(bytes), this.allowList,
				this.classLoader, bytes.length)) {
			return in.readObject();
		}
		catch (IOException | ClassNotFoundException | RuntimeException ex) {
			throw new SessionSerializationException("Cannot deserialize a session attribute: " + ex, ex);
		}
		catch (Error ex) {
			DeserializationLimits.rethrowIfFatal(ex);
			throw new SessionSerializationException("Cannot deserialize a session attribute: " + ex, ex);
		}
	}

	/**
	 * Return the class loader to use when none is given.
	 * @return the thread context class loader, or this library's class loader
	 */
	static ClassLoader defaultClassLoader() {
		ClassLoader classLoader = ClassUtils.getDefaultClassLoader();
		return (classLoader != null) ? classLoader : JdkSessionSerializer.class.getClassLoader();
	}

	@Override
	public String toString() {
		return "JdkSessionSerializer " + this.allowList.getPackages();
	}

}
