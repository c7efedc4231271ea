package io.github.msm.session.serializer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.TreeMap;
import java.util.TreeSet;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Output;

/**
 * Kryo bytes as servers before {@link KryoUnmodifiableSerializers} wrote them: the views
 * of {@code Collections.unmodifiable*(...)} through Java serialization. Depth is not
 * limited, so that tests can write graphs a reader must refuse.
 */
final class KryoLegacyBytes {

	private KryoLegacyBytes() {
	}

	static byte[] serialize(ClassAllowList allowList, Object value) {
		Kryo kryo = SessionKryo.create(allowList, KryoLegacyBytes.class.getClassLoader());
		kryo.setMaxDepth(10_000);
		KryoAllowListJavaSerializer java = new KryoAllowListJavaSerializer(allowList);
		for (Object view : new Object[] { Collections.unmodifiableList(new ArrayList<>()),
				Collections.unmodifiableSet(new LinkedHashSet<>()), Collections.unmodifiableSortedSet(new TreeSet<>()),
				Collections.unmodifiableMap(new LinkedHashMap<>()),
				Collections.unmodifiableSortedMap(new TreeMap<>()) }) {
			kryo.register(view.getClass(), java);
		}
		Output output = new Output(4096, -1);
		kryo.writeClassAndObject(output, value);
		return output.toBytes();
	}

}
