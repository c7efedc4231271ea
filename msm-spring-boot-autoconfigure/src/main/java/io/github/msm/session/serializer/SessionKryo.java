package io.github.msm.session.serializer;

import java.io.Serializable;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.util.Map;
import java.util.UUID;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.serializers.CollectionSerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.URISerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.UUIDSerializer;
import com.esotericsoftware.kryo.serializers.MapSerializer;
import com.esotericsoftware.kryo.util.DefaultInstantiatorStrategy;
import com.esotericsoftware.kryo.util.MapReferenceResolver;
import org.jspecify.annotations.Nullable;
import org.objenesis.strategy.StdInstantiatorStrategy;

import org.springframework.util.ClassUtils;

/**
 * The {@link Kryo} configuration for session attributes: class names checked against a
 * {@link ClassAllowList}, references on, bounded lengths, depth and object count (see
 * {@link DeserializationLimits}), and serializers that work on Java 17+ without
 * {@code --add-opens}.
 *
 * <p>
 * The read-only views of {@code Collections.unmodifiable*(...)}, which Spring Security
 * holds in every token, have serializers of their own
 * ({@link KryoUnmodifiableSerializers}). Other JDK classes whose fields Kryo may not reach
 * (the {@code java.base} module is not open to it) and JDK collections it cannot
 * instantiate (such as {@code Collections.newSetFromMap(...)}) are handed to Java
 * serialization when they are {@link Serializable}, under the same allow-list. The rule depends only on the classes, never on JVM flags, so all servers
 * write the same format.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class SessionKryo extends Kryo {

	private final Serializer<Object> javaSerializer;

	private final Map<Class<?>, Serializer<?>> unmodifiableViews;

	private SessionKryo(KryoAllowListClassResolver classResolver, ClassAllowList allowList,
			ClassLoader classLoader) {
		super(classResolver, new MapReferenceResolver());
		classResolver.lockBuiltInRegistrations();
		this.javaSerializer = new KryoAllowListJavaSerializer(allowList);
		this.unmodifiableViews = KryoUnmodifiableSerializers.create(this.javaSerializer);
		setRegistrationRequired(false);
		setWarnUnregisteredClasses(false);
		setClassLoader(classLoader);
		setMaxDepth(DeserializationLimits.MAX_DEPTH);
		// Objenesis only as a fallback, and only for classes the resolver has allowed
		setInstantiatorStrategy(new DefaultInstantiatorStrategy(new StdInstantiatorStrategy()));
		// Neither is a default in Kryo 5.6, and both classes keep their fields private
		addDefaultSerializer(UUID.class, new UUIDSerializer());
		addDefaultSerializer(URI.class, new URISerializer());
	}

	/**
	 * Create a Kryo for session attributes.
	 * @param allowList the classes that may be read and written
	 * @param classLoader the class loader for application classes
	 * @return a new Kryo, to be used by one thread at a time
	 */
	static Kryo create(ClassAllowList allowList, ClassLoader classLoader) {
		return new SessionKryo(new KryoAllowListClassResolver(allowList), allowList, classLoader);
	}

	@Override
	public <T> T readObject(Input input, Class<T> type) {
		KryoBoundedInput.countObject(input);
		KryoBoundedInput.startObject(input);
		T value = super.readObject(input, type);
		KryoBoundedInput.endObject(input, value);
		return value;
	}

	@Override
	public <T> T readObject(Input input, Class<T> type, Serializer serializer) {
		KryoBoundedInput.countObject(input);
		KryoBoundedInput.startObject(input);
		T value = super.readObject(input, type, serializer);
		KryoBoundedInput.endObject(input, value);
		return value;
	}

	@Override
	public <T> @Nullable T readObjectOrNull(Input input, Class<T> type) {
		KryoBoundedInput.countObject(input);
		KryoBoundedInput.startObject(input);
		T value = super.readObjectOrNull(input, type);
		KryoBoundedInput.endObject(input, value);
		return value;
	}

	@Override
	public <T> @Nullable T readObjectOrNull(Input input, Class<T> type, Serializer serializer) {
		KryoBoundedInput.countObject(input);
		KryoBoundedInput.startObject(input);
		T value = super.readObjectOrNull(input, type, serializer);
		KryoBoundedInput.endObject(input, value);
		return value;
	}

	@Override
	public @Nullable Object readClassAndObject(Input input) {
		KryoBoundedInput.countObject(input);
		KryoBoundedInput.startObject(input);
		Object value = super.readClassAndObject(input);
		KryoBoundedInput.endObject(input, value);
		return value;
	}

	@Override
	public Serializer getDefaultSerializer(Class type) {
		// null while Kryo's constructor registers its built-in types
		Serializer<?> view = (this.unmodifiableViews != null) ? this.unmodifiableViews.get(type) : null;
		if (view != null) {
			return view;
		}
		Serializer<?> serializer = super.getDefaultSerializer(type);
		if (isUninstantiableJdkCollection(type, serializer)) {
			return this.javaSerializer;
		}
		return KryoBoundedSerializers.bound(this, type, serializer);
	}

	/**
	 * Called when no specific serializer matched, to create the field serializer, which
	 * would fail right away on fields that {@code java.base} does not open to Kryo.
	 */
	@Override
	protected Serializer newDefaultSerializer(Class type) {
		if (Serializable.class.isAssignableFrom(type) && hasModuleSuperclass(type)) {
			return this.javaSerializer;
		}
		return super.newDefaultSerializer(type);
	}

	private static boolean isUninstantiableJdkCollection(Class<?> type, Serializer<?> serializer) {
		Class<?> serializerType = serializer.getClass();
		return (serializerType == CollectionSerializer.class || serializerType == MapSerializer.class)
				&& Serializable.class.isAssignableFrom(type) && type.getModule().isNamed()
				&& !isPubliclyInstantiable(type);
	}

	/**
	 * Whether the class or a superclass lives in a named module, typically
	 * {@code java.base} (think of exceptions), whose private fields Kryo cannot set.
	 */
	private static boolean hasModuleSuperclass(Class<?> type) {
		for (Class<?> candidate = type; candidate != null && candidate != Object.class; candidate = candidate
			.getSuperclass()) {
			if (candidate.getModule().isNamed()) {
				return true;
			}
		}
		return false;
	}

	/**
	 * Whether Kryo can create the class through its public no-arg constructor; it may not
	 * call a non-public one in a named module.
	 */
	private static boolean isPubliclyInstantiable(Class<?> type) {
		return Modifier.isPublic(type.getModifiers()) && !Modifier.isAbstract(type.getModifiers())
				&& ClassUtils.getConstructorIfAvailable(type) != null;
	}

}
