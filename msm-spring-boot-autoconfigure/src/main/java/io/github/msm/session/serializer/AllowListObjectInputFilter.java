package io.github.msm.session.serializer;

import java.io.ObjectInputFilter;

/**
 * Per-stream {@link ObjectInputFilter} that accepts only allow-listed classes and bounds
 * the resources one stream may claim.
 *
 * <p>
 * Besides depth, references and bytes, the filter keeps a budget for array lengths over
 * the whole stream: arrays and the collections that size their storage from the stream
 * (such as {@code ArrayList} and {@code HashMap}) report the length they are about to
 * allocate. In genuine data every element takes at least one byte of the stream, so a
 * total much larger than the stream can only come from crafted length prefixes that aim
 * at an {@link OutOfMemoryError}. An instance is therefore stateful and belongs to one
 * stream.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class AllowListObjectInputFilter implements ObjectInputFilter {

	/**
	 * Deepest object nesting accepted: well above real session graphs, and a graph this
	 * deep still reads within a 512 KB thread stack instead of overflowing it.
	 */
	static final int MAX_DEPTH = 256;

	/**
	 * Most objects, classes and strings one stream may hold.
	 */
	static final long MAX_REFERENCES = 500_000;

	/**
	 * Array elements allowed beyond twice the stream length; {@code HashMap} sizes its
	 * table a little above its entry count.
	 */
	private static final long ARRAY_ALLOWANCE = 1024;

	private final ClassAllowList allowList;

	private final long maxBytes;

	private long arrayBudget;

	/**
	 * Create a filter for a stream.
	 * @param allowList the classes that may be deserialized
	 * @param maxBytes the length of the stream, which also bounds the array budget
	 */
	AllowListObjectInputFilter(ClassAllowList allowList, long maxBytes) {
		this.allowList = allowList;
		this.maxBytes = maxBytes;
		this.arrayBudget = 2 * maxBytes + ARRAY_ALLOWANCE;
	}

	/**
	 * Create the filter for a stream, combined with the JVM-wide filter if one is
	 * configured ({@code jdk.serialFilter}), so that an operator's filter still applies.
	 * @param allowList the classes that may be deserialized
	 * @param maxBytes the length of the stream
	 * @return the filter to install on the stream
	 */
	static ObjectInputFilter forStream(ClassAllowList allowList, long maxBytes) {
		ObjectInputFilter filter = new AllowListObjectInputFilter(allowList, maxBytes);
		ObjectInputFilter jvmWide = ObjectInputFilter.Config.getSerialFilter();
		return (jvmWide != null) ? ObjectInputFilter.merge(filter, jvmWide) : filter;
	}

	@Override
	public Status checkInput(FilterInfo info) {
		if (info.depth() > MAX_DEPTH || info.references() > MAX_REFERENCES || info.streamBytes() > this.maxBytes) {
			return Status.REJECTED;
		}
		if (info.arrayLength() >= 0) {
			this.arrayBudget -= info.arrayLength();
			if (this.arrayBudget < 0) {
				return Status.REJECTED;
			}
		}
		Class<?> type = info.serialClass();
		if (type == null) {
			return Status.UNDECIDED;
		}
		return this.allowList.isAllowed(type) ? Status.ALLOWED : Status.REJECTED;
	}

}
