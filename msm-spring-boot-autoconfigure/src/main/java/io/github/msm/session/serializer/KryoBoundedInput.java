package io.github.msm.session.serializer;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import org.jspecify.annotations.Nullable;

/**
 * Kryo {@link Input} over a complete byte array that refuses length prefixes the
 * remaining bytes cannot possibly satisfy.
 *
 * <p>
 * Kryo allocates arrays, strings and collections from the length it reads before it
 * reads the elements. A crafted length such as {@code Integer.MAX_VALUE} would therefore
 * raise an {@link OutOfMemoryError} from a few bytes of input. Since every element takes
 * at least one byte, two checks are enough:
 * <ul>
 * <li>A leaf (byte or primitive array, string) may not be longer than the bytes left:
 * {@link #checkAvailable(int)}.</li>
 * <li>Containers nest, so while an outer collection is being filled an inner one may
 * claim the same bytes again. Their lengths are therefore charged to a budget of the
 * whole input: {@link #claim(int)}. The allowance covers the one case where elements take
 * no bytes, a collection holding only nulls.</li>
 * </ul>
 * No container may claim more than {@link DeserializationLimits#MAX_COLLECTION_ELEMENTS},
 * and the whole input may hold at most {@link DeserializationLimits#MAX_OBJECTS}, counted
 * by {@link #countObject(Input)} for every object read, including back-references, which
 * take no new memory but do cost work when a set hashes them.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 * @see KryoBoundedSerializers
 */
final class KryoBoundedInput extends Input {

	/**
	 * Container elements allowed beyond the input length, for collections of nulls.
	 */
	private static final int NULL_ELEMENT_ALLOWANCE = 1024;

	private long budget;

	private int objects;

	private final ExpandedSizes sizes = new ExpandedSizes();

	/** Per object being read, from the outermost: the expanded sizes of what it refers to so far. */
	private long[] open = new long[DeserializationLimits.MAX_DEPTH + 2];

	private int depth;

	KryoBoundedInput(byte[] bytes) {
		super(bytes);
		this.budget = (long) bytes.length + NULL_ELEMENT_ALLOWANCE;
	}

	/**
	 * Charge the length of a container to the budget of the whole input.
	 * @param input the input the container is read from
	 * @param length the number of elements the container claims
	 * @throws KryoException if the input cannot hold that many elements
	 */
	static void claim(Input input, int length) {
		if (input instanceof KryoBoundedInput bounded) {
			bounded.claim(length);
		}
	}

	private void claim(int length) {
		if (length > DeserializationLimits.MAX_COLLECTION_ELEMENTS) {
			throw new KryoException("Invalid length " + length + ": a collection may hold at most "
					+ DeserializationLimits.MAX_COLLECTION_ELEMENTS + " elements");
		}
		this.budget -= length;
		if (length < 0 || this.budget < 0) {
			throw new KryoException("Invalid length " + length + ": the " + this.limit
					+ " bytes of input cannot hold that many elements");
		}
	}

	/**
	 * Count one object read from the input, a back-reference or {@code null} included.
	 * @param input the input the object is read from
	 * @throws KryoException if the input holds more objects than a value may
	 */
	static void countObject(Input input) {
		if (input instanceof KryoBoundedInput bounded
				&& ++bounded.objects > DeserializationLimits.MAX_OBJECTS) {
			throw new KryoException("Too many objects: a value may hold at most "
					+ DeserializationLimits.MAX_OBJECTS);
		}
	}

	/**
	 * Start reading an object: what it refers to is added up until {@link #endObject}.
	 * @param input the input the object is read from
	 */
	static void startObject(Input input) {
		if (input instanceof KryoBoundedInput bounded) {
			if (bounded.depth == bounded.open.length) {
				bounded.open = java.util.Arrays.copyOf(bounded.open, bounded.depth * 2);
			}
			bounded.open[bounded.depth++] = 0;
		}
	}

	/**
	 * Finish reading an object: record its expanded size, charge it unless it is a
	 * back-reference (or a value Java serialization read and charged), and add it to the
	 * object that refers to it. Runs before a collection adds, and so hashes, the object.
	 * @param input the input the object was read from
	 * @param value the object read
	 * @throws KryoException if the objects read so far are too much to hash
	 */
	static void endObject(Input input, @Nullable Object value) {
		if (!(input instanceof KryoBoundedInput bounded) || bounded.depth == 0) {
			return;
		}
		long referred = bounded.open[--bounded.depth];
		long size;
		if (value == null) {
			size = 0;
		}
		else if (referred == 0 && bounded.sizes.isRecorded(value)) {
			size = bounded.sizes.sizeOf(value);
		}
		else {
			size = 1 + referred;
			if (!bounded.sizes.completed(value, size)) {
				throw new KryoException(ExpandedSizes.limitMessage());
			}
		}
		if (bounded.depth > 0) {
			bounded.open[bounded.depth - 1] += size;
		}
	}

	/**
	 * The expanded sizes of this input's objects, shared with the Java serialization
	 * stream of a value that Kryo hands to it.
	 * @param input the input
	 * @return its sizes, or a fresh instance for an input of another type
	 */
	static ExpandedSizes sizes(Input input) {
		return (input instanceof KryoBoundedInput bounded) ? bounded.sizes : new ExpandedSizes();
	}

	/**
	 * Check that a leaf of the given length fits into the bytes left.
	 * @param length the number of elements about to be allocated
	 * @throws KryoException if fewer bytes are left
	 */
	void checkAvailable(int length) {
		if (length < 0 || length > this.limit - this.position) {
			throw new KryoException(
					"Invalid length " + length + ": only " + (this.limit - this.position) + " bytes are left");
		}
	}

	@Override
	public byte[] readBytes(int length) {
		checkAvailable(length);
		return super.readBytes(length);
	}

	@Override
	public int[] readInts(int length) {
		checkAvailable(length);
		return super.readInts(length);
	}

	@Override
	public int[] readInts(int length, boolean optimizePositive) {
		checkAvailable(length);
		return super.readInts(length, optimizePositive);
	}

	@Override
	public long[] readLongs(int length) {
		checkAvailable(length);
		return super.readLongs(length);
	}

	@Override
	public long[] readLongs(int length, boolean optimizePositive) {
		checkAvailable(length);
		return super.readLongs(length, optimizePositive);
	}

	@Override
	public float[] readFloats(int length) {
		checkAvailable(length);
		return super.readFloats(length);
	}

	@Override
	public double[] readDoubles(int length) {
		checkAvailable(length);
		return super.readDoubles(length);
	}

	@Override
	public short[] readShorts(int length) {
		checkAvailable(length);
		return super.readShorts(length);
	}

	@Override
	public char[] readChars(int length) {
		checkAvailable(length);
		return super.readChars(length);
	}

	@Override
	public boolean[] readBooleans(int length) {
		checkAvailable(length);
		return super.readBooleans(length);
	}

	@Override
	public String readString() {
		checkUtf8Length();
		return super.readString();
	}

	@Override
	public StringBuilder readStringBuilder() {
		checkUtf8Length();
		return super.readStringBuilder();
	}

	/**
	 * A UTF-8 string starts with its character count, from which Kryo sizes a char
	 * array; ASCII strings end with a marked byte instead and need no check.
	 */
	private void checkUtf8Length() {
		if (readVarIntFlag()) {
			int start = this.position;
			int length = readVarIntFlag(true); // 0: null, 1: empty, n: n - 1 characters
			this.position = start;
			checkAvailable((length > 0) ? length - 1 : length);
		}
	}

}
