package io.github.msm.session.serializer;

import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import com.esotericsoftware.kryo.util.ObjectMap;

/**
 * Kryo {@link JavaSerializer} whose streams enforce a {@link ClassAllowList}.
 *
 * <p>
 * Kryo hands some JDK classes to Java serialization because it cannot rebuild them
 * itself on Java 17+ (for example {@code Collections.unmodifiableList(...)}, which Spring
 * Security's tokens use, or exceptions). The objects inside such a value are read by
 * Java serialization, not by Kryo's class resolver, so the stream must carry the same
 * allow-list, or it would be a way around it. For the same reason, the stream's depth
 * limit counts from the depth at which Kryo met the value. Like its superclass, it shares
 * one stream per object graph so that Java's back-references work across values.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class KryoAllowListJavaSerializer extends JavaSerializer {

	private final ClassAllowList allowList;

	KryoAllowListJavaSerializer(ClassAllowList allowList) {
		this.allowList = allowList;
	}

	@Override
	@SuppressWarnings("unchecked") // Kryo's graph context is a raw map
	public void write(Kryo kryo, Output output, Object object) {
		try {
			ObjectMap<Object, Object> graphContext = kryo.getGraphContext();
			ObjectOutputStream stream = (ObjectOutputStream) graphContext.get(this);
			if (stream == null) {
				stream = new AllowListObjectOutputStream(output, this.allowList);
				graphContext.put(this, stream);
			}
			stream.writeObject(object);
			stream.flush();
		}
		catch (Exception ex) {
			throw new KryoException("Error during Java serialization of " + object.getClass().getName() + ": " + ex,
					ex);
		}
	}

	@Override
	@SuppressWarnings("unchecked") // Kryo's graph context is a raw map
	public Object read(Kryo kryo, Input input, Class type) {
		try {
			ObjectMap<Object, Object> graphContext = kryo.getGraphContext();
			ObjectInputStream stream = (ObjectInputStream) graphContext.get(this);
			if (stream == null) {
				// Each value sits at Kryo's depth, which the stream counts again as depth 1
				stream = new AllowListObjectInputStream(input, this.allowList, kryo.getClassLoader(), input.limit(),
						() -> kryo.getDepth() - 1, KryoBoundedInput.sizes(input));
				graphContext.put(this, stream);
			}
			return stream.readObject();
		}
		catch (Exception ex) {
			throw new KryoException("Error during Java deserialization: " + ex, ex);
		}
	}

}
