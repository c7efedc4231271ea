package io.github.msm.session.serializer;

import java.io.IOException;
import java.io.InputStream;
import java.io.InvalidClassException;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.ObjectStreamClass;
import java.util.function.IntSupplier;

import org.springframework.util.ClassUtils;

/**
 * {@link ObjectInputStream} that checks every class name against a
 * {@link ClassAllowList} before loading it, loads classes from a given class loader and
 * carries an {@link AllowListObjectInputFilter}.
 *
 * <p>
 * The name check in {@link #resolveClass(ObjectStreamClass)} keeps a refused class from
 * even being loaded; the filter then checks the loaded class (its supertypes) and bounds
 * depth, references, bytes and array lengths, and {@link #resolveObject(Object)} the
 * hashing work ({@link ExpandedSizes}). Proxy classes are refused outright: their
 * invocation handler would run on every call. Used for JDK serialization and for the
 * values Kryo delegates to it.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class AllowListObjectInputStream extends ObjectInputStream {

	private final ClassAllowList allowList;

	private final ClassLoader classLoader;

	private final ExpandedSizes sizes;

	/**
	 * Create a stream that reads the stream header immediately.
	 * @param in the bytes
	 * @param allowList the classes that may be deserialized
	 * @param classLoader the class loader for application classes
	 * @param maxBytes the number of bytes the stream may consume
	 * @throws IOException if the stream header is corrupt
	 */
	AllowListObjectInputStream(InputStream in, ClassAllowList allowList, ClassLoader classLoader, long maxBytes)
			throws IOException {
		this(in, allowList, classLoader, maxBytes, () -> 0, new ExpandedSizes());
	}

	/**
	 * Create a stream for values nested in a larger graph, which reads the stream header
	 * immediately.
	 * @param in the bytes
	 * @param allowList the classes that may be deserialized
	 * @param classLoader the class loader for application classes
	 * @param maxBytes the number of bytes the stream may consume
	 * @param baseDepth the depth in the larger graph at which each value read from the
	 * stream sits, minus one
	 * @param sizes the expanded sizes of the larger graph, charged with this stream's
	 * objects too
	 * @throws IOException if the stream header is corrupt
	 */
	AllowListObjectInputStream(InputStream in, ClassAllowList allowList, ClassLoader classLoader, long maxBytes,
			IntSupplier baseDepth, ExpandedSizes sizes) throws IOException {
		super(in);
		this.allowList = allowList;
		this.classLoader = classLoader;
		this.sizes = sizes;
		setObjectInputFilter(AllowListObjectInputFilter.forStream(allowList, maxBytes, baseDepth));
		enableResolveObject(true);
	}

	/**
	 * Charges each object with its expanded size once it is completely read, which is
	 * before the collection holding it adds, and so hashes, it. Back-references are not
	 * seen here, but each counts in the size of the object that holds it.
	 */
	@Override
	protected Object resolveObject(Object object) throws IOException {
		if (!this.sizes.completed(object, 1 + this.sizes.referredSize(object))) {
			throw new InvalidObjectException(ExpandedSizes.limitMessage());
		}
		return object;
	}

	@Override
	protected Class<?> resolveClass(ObjectStreamClass descriptor) throws IOException, ClassNotFoundException {
		String name = descriptor.getName();
		if (!this.allowList.isAllowed(name)) {
			throw new InvalidClassException(name, ClassAllowList.notAllowedMessage(name));
		}
		Class<?> primitive = ClassUtils.resolvePrimitiveClassName(name);
		return (primitive != null) ? primitive : Class.forName(name, false, this.classLoader);
	}

	@Override
	protected Class<?> resolveProxyClass(String[] interfaces) throws IOException {
		throw new InvalidClassException("Proxy classes are not allowed in a session");
	}

}
