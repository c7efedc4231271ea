package io.github.msm.session.serializer;

/**
 * How much work reading one attribute value may cost, the same for Kryo and Java
 * serialization.
 *
 * <p>
 * Whoever can write to memcached can plant bytes under a session key, so a read must not
 * let a few hundred bytes keep a request thread busy. Bounding the bytes is not enough:
 * while a {@code HashSet} or {@code HashMap} is read, it hashes its elements, and the
 * {@code hashCode()} of a collection visits everything it contains. Back-references let a
 * small stream describe sets of sets of sets in which every level is reached twice, so the
 * hashing work doubles with every level of depth while the stream grows by a few bytes. A
 * long chain of collections built with back-references is shallow in the stream but deep
 * in memory, and hashing it overflows the thread stack.
 *
 * <p>
 * Hence the limits below, all well above what a session holds: a Spring Security context
 * with its user, authorities and details is 6 levels deep, and a list of a few thousand
 * objects or a map of a few hundred entries is a small fraction of the counts. Within
 * them, a graph can still be too deep to hash on a small thread stack; the resulting
 * {@link StackOverflowError} means unreadable data, like any other error that is not the
 * JVM's own trouble ({@link #rethrowIfFatal(Error)}).
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class DeserializationLimits {

	/**
	 * Deepest object nesting accepted. Hashing a crafted set of two sets nested this deep
	 * took 0.1 to 0.3 s; the work doubles with each further level (4 levels more took 1 to
	 * 1.5 s, 20 more would take hours). Java serialization also counts one level for each
	 * superclass of a class the first time it appears, and the values that Kryo hands to
	 * Java serialization count from the depth at which Kryo met them.
	 */
	static final int MAX_DEPTH = 20;

	/**
	 * Most objects one attribute may hold. Kryo counts every object it reads, including
	 * back-references and {@code null}s; Java serialization also counts class descriptors
	 * and strings. A list of 5,000 small objects holds some 20,000; a crafted chain of
	 * collections longer than this is refused before it is hashed.
	 */
	static final int MAX_OBJECTS = 200_000;

	/**
	 * Most elements one collection, map or object array may claim. A map's length prefix
	 * counts its entries; Java serialization reports the hash table a {@code HashMap} or
	 * {@code HashSet} allocates instead, hence {@link #MAX_REFERENCE_ARRAY_LENGTH}.
	 */
	static final int MAX_COLLECTION_ELEMENTS = 100_000;

	/**
	 * Longest array of references that Java serialization may allocate: the table of a
	 * {@code HashMap} with {@link #MAX_COLLECTION_ELEMENTS} entries at the default load
	 * factor (the next power of two above 4/3 of the entries). Arrays of primitives are
	 * leaves that cost no hashing; their lengths are bounded by the bytes of the stream.
	 */
	static final int MAX_REFERENCE_ARRAY_LENGTH = 1 << 18;

	/**
	 * Most hashing work the objects of one value may cause, as the total of their
	 * expanded sizes (see {@link ExpandedSizes}). A graph without shared objects charges
	 * the sum of its objects' depths: 50,000 objects all 20 levels deep still read, a
	 * list of 5,000 small objects charges some 30,000. A set of three sets that each hold
	 * the same three sets of the next level, 18 levels deep, passes the depth and object
	 * limits but took more than a minute to hash; this limit refuses it after a fraction
	 * of a second.
	 */
	static final long MAX_EXPANDED_SIZE = 1_000_000;

	private DeserializationLimits() {
	}

	/**
	 * Rethrow an error that means the JVM itself is in trouble, such as an
	 * {@link OutOfMemoryError}. Any other error raised while reading untrusted bytes, a
	 * {@link StackOverflowError} from hashing a crafted graph, a {@link LinkageError} from
	 * a class that changed since the value was written, an {@link AssertionError} from a
	 * class's own {@code readObject}, only means that the value cannot be read.
	 * @param error an error raised while reading
	 */
	static void rethrowIfFatal(Error error) {
		if (error instanceof VirtualMachineError && !(error instanceof StackOverflowError)) {
			throw error;
		}
	}

}
