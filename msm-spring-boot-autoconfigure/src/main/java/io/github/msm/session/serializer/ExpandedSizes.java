package io.github.msm.session.serializer;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

/**
 * The expanded size of each object read from one value, and their total: the work that
 * {@code hashCode()} and {@code equals()} may do on what was read.
 *
 * <p>
 * An object's expanded size is one plus the expanded sizes of the objects it refers to,
 * counting a shared object once per reference: the number of nodes that hashing it
 * visits if its hash covers what it refers to, as a collection's does. Back-references
 * make this grow exponentially with depth while the stream grows linearly (a set of three
 * sets that each hold the same three sets of the next level, and so on), which neither a
 * depth nor an object limit catches.
 *
 * <p>
 * Each object is charged its expanded size once, when it has been read. A hash-based
 * collection hashes each of its distinct elements once while it is read, at a cost of at
 * most the element's expanded size, and each element was charged before; so the hashing
 * done before the total exceeds {@link DeserializationLimits#MAX_EXPANDED_SIZE} is at most
 * twice that limit. A tree of objects without sharing charges the sum of its depths.
 *
 * <p>
 * Not covered: many distinct elements with colliding hash codes, which make a hash-based
 * collection compare each new element with those already in its bucket.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class ExpandedSizes {

	/** The non-static reference fields of a class and its superclasses outside named modules, made accessible. */
	private static final ClassValue<List<Field>> REFERENCE_FIELDS = new ClassValue<>() {

		@Override
		protected List<Field> computeValue(Class<?> type) {
			List<Field> fields = new ArrayList<>();
			for (Class<?> candidate = type; candidate != null && !candidate.getModule().isNamed(); candidate = candidate
				.getSuperclass()) {
				for (Field field : candidate.getDeclaredFields()) {
					if (!Modifier.isStatic(field.getModifiers()) && !field.getType().isPrimitive()
							&& field.trySetAccessible()) {
						fields.add(field);
					}
				}
			}
			return List.copyOf(fields);
		}

	};

	private final Map<Object, Long> sizes = new IdentityHashMap<>();

	private long total;

	/**
	 * The expanded size recorded for an object that was read before, 1 for any other
	 * object (a leaf), 0 for {@code null}.
	 * @param value the object
	 * @return its size
	 */
	long sizeOf(@Nullable Object value) {
		if (value == null) {
			return 0;
		}
		Long size = this.sizes.get(value);
		return (size != null) ? size : 1;
	}

	/** Whether the object was read before with an expanded size above 1. */
	boolean isRecorded(Object value) {
		return this.sizes.containsKey(value);
	}

	/**
	 * Records an object that has been read and charges its expanded size.
	 * @param value the object
	 * @param size its expanded size
	 * @return {@code false} if the total now exceeds
	 * {@link DeserializationLimits#MAX_EXPANDED_SIZE}: the value must not be read on
	 */
	boolean completed(Object value, long size) {
		if (size > 1) {
			this.sizes.put(value, size);
		}
		this.total += size;
		return this.total <= DeserializationLimits.MAX_EXPANDED_SIZE;
	}

	/**
	 * The expanded sizes of what a completely read object refers to, for readers that
	 * do not see which nested reads belong to which object (Java serialization): the
	 * elements of collections and arrays, the keys and values of maps and map entries,
	 * and the reference fields of classes outside named modules (the application's,
	 * Spring Security's), whose {@code hashCode()} may cover them. Other JDK classes
	 * count as leaves: the allowed ones hold no graphs of their own.
	 * @param value the object
	 * @return the sum of the sizes of what it refers to
	 */
	long referredSize(Object value) {
		long size = 0;
		if (value instanceof Collection<?> collection) {
			for (Object element : collection) {
				size += sizeOf(element);
			}
		}
		else if (value instanceof Map<?, ?> map) {
			for (Map.Entry<?, ?> entry : map.entrySet()) {
				size += sizeOf(entry.getKey()) + sizeOf(entry.getValue());
			}
		}
		else if (value instanceof Map.Entry<?, ?> entry) {
			size += sizeOf(entry.getKey()) + sizeOf(entry.getValue());
		}
		else if (value instanceof Object[] array) {
			for (Object element : array) {
				size += sizeOf(element);
			}
		}
		else {
			for (Field field : REFERENCE_FIELDS.get(value.getClass())) {
				try {
					size += sizeOf(field.get(value));
				}
				catch (IllegalAccessException ex) {
					// not made accessible: a leaf for this purpose
				}
			}
		}
		return size;
	}

	static String limitMessage() {
		return "Too much hashing work: the objects of a value may reach at most " + DeserializationLimits.MAX_EXPANDED_SIZE
				+ " objects in total when shared objects are counted once per reference";
	}

}
