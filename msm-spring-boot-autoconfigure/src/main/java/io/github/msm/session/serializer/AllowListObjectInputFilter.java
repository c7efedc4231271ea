package io.github.msm.session.serializer;

import java.io.ObjectInputFilter;
import java.util.function.IntSupplier;

import org.jspecify.annotations.Nullable;

/**
 * Per-stream {@link ObjectInputFilter} that accepts only allow-listed classes and bounds
 * the resources one stream may claim.
 *
 * <p>
 * Depth, references and the length of reference arrays are bounded by the
 * {@link DeserializationLimits}, which keep the work of reading crafted bytes small.
 * Besides them, the filter keeps a budget for array lengths over the whole stream: arrays
 * and the collections that size their storage from the stream (such as {@code ArrayList}
 * and {@code HashMap}) report the length they are about to allocate. In genuine data
 * every element takes at least one byte of the stream, so a total much larger than the
 * stream can only come from crafted length prefixes that aim at an
 * {@link OutOfMemoryError}. An instance is therefore stateful and belongs to one stream.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class AllowListObjectInputFilter implements ObjectInputFilter {

	/**
	 * Array elements allowed beyond twice the stream length; {@code HashMap} sizes its
	 * table a little above its entry count.
	 */
	private static final long ARRAY_ALLOWANCE = 1024;

	private final ClassAllowList allowList;

	private final long maxBytes;

	private final IntSupplier baseDepth;

	private long arrayBudget;

	/**
	 * Create a filter for a stream.
	 * @param allowList the classes that may be deserialized
	 * @param maxBytes the length of the stream, which also bounds the array budget
	 * @param baseDepth the depth at which the stream's root object sits in a larger graph,
	 * minus one; zero for a stream of its own
	 */
	AllowListObjectInputFilter(ClassAllowList allowList, long maxBytes, IntSupplier baseDepth) {
		this.allowList = allowList;
		this.maxBytes = maxBytes;
		this.baseDepth = baseDepth;
		this.arrayBudget = 2 * maxBytes + ARRAY_ALLOWANCE;
	}

	/**
	 * Create the filter for a stream, combined with the JVM-wide filter if one is
	 * configured ({@code jdk.serialFilter}), so that an operator's filter still applies.
	 * @param allowList the classes that may be deserialized
	 * @param maxBytes the length of the stream
	 * @param baseDepth the depth at which the stream's root object sits in a larger graph,
	 * minus one, such as a value that Kryo hands to Java serialization; zero for a stream
	 * of its own
	 * @return the filter to install on the stream
	 */
	static ObjectInputFilter forStream(ClassAllowList allowList, long maxBytes, IntSupplier baseDepth) {
		ObjectInputFilter filter = new AllowListObjectInputFilter(allowList, maxBytes, baseDepth);
		ObjectInputFilter jvmWide = ObjectInputFilter.Config.getSerialFilter();
		return (jvmWide != null) ? ObjectInputFilter.merge(filter, jvmWide) : filter;
	}

	@Override
	public Status checkInput(FilterInfo info) {
		if (this.baseDepth.getAsInt() + info.depth() > DeserializationLimits.MAX_DEPTH
				|| info.references() > DeserializationLimits.MAX_OBJECTS || info.streamBytes() > this.maxBytes) {
			return Status.REJECTED;
		}
		Class<?> type = info.serialClass();
		if (info.arrayLength() >= 0) {
			if (isReferenceArray(type) && info.arrayLength() > DeserializationLimits.MAX_REFERENCE_ARRAY_LENGTH) {
				return Status.REJECTED;
			}
			this.arrayBudget -= info.arrayLength();
			if (this.arrayBudget < 0) {
				return Status.REJECTED;
			}
		}
		if (type == null) {
			return Status.UNDECIDED;
		}
		return this.allowList.isAllowed(type) ? Status.ALLOWED : Status.REJECTED;
	}

	private static boolean isReferenceArray(@Nullable Class<?> type) {
		return type == null || !type.isArray() || !type.getComponentType().isPrimitive();
	}

}
