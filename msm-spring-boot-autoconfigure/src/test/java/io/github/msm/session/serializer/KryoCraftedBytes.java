package io.github.msm.session.serializer;

import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

import com.esotericsoftware.kryo.io.Output;
import org.junit.jupiter.api.Named;

/**
 * Hand-written Kryo bytes, as an attacker who can write to memcached would produce them.
 */
final class KryoCraftedBytes {

	private KryoCraftedBytes() {
	}

	static Stream<Named<byte[]>> hugeLengths() {
		return Stream.of(
				Named.of("ArrayList",
						crafted("java.util.ArrayList",
								(output) -> output.writeVarIntFlag(false, Integer.MAX_VALUE, true))),
				Named.of("HashMap", crafted("java.util.HashMap", (output) -> output.writeVarInt(Integer.MAX_VALUE, true))),
				Named.of("Object[]",
						crafted("[Ljava.lang.Object;", (output) -> output.writeVarInt(Integer.MAX_VALUE, true))),
				Named.of("String[]",
						crafted("[Ljava.lang.String;", (output) -> output.writeVarInt(Integer.MAX_VALUE, true))),
				Named.of("boolean[]", crafted("[Z", (output) -> output.writeVarInt(Integer.MAX_VALUE, true))),
				Named.of("byte[]", crafted("[B", (output) -> output.writeVarInt(Integer.MAX_VALUE, true))),
				Named.of("long[]", crafted("[J", (output) -> output.writeVarInt(Integer.MAX_VALUE, true))),
				Named.of("List.of", crafted(List.of(1, 2, 3).getClass().getName(),
						(output) -> output.writeVarInt(Integer.MAX_VALUE, true))),
				Named.of("Arrays.asList",
						crafted(Arrays.asList(1).getClass().getName(),
								(output) -> output.writeVarIntFlag(false, Integer.MAX_VALUE, true))),
				Named.of("String", craftedString()));
	}

	/**
	 * Bytes of a value whose class is written by name, as Kryo does for every class but
	 * primitives and String, followed by what {@code body} writes.
	 */
	static byte[] crafted(String className, Consumer<Output> body) {
		Output output = new Output(64, -1);
		writeClassName(output, 0, className);
		output.writeVarInt(1, true); // a new object, not a back-reference
		body.accept(output);
		return output.toBytes();
	}

	private static byte[] craftedString() {
		Output output = new Output(64, -1);
		output.writeVarInt(1 + 2, true); // String, registered by Kryo with id 1
		output.writeVarInt(1, true); // a new object
		output.writeVarIntFlag(true, Integer.MAX_VALUE, true); // UTF-8, character count
		return output.toBytes();
	}

	static void writeClassName(Output output, int nameId, String className) {
		output.writeVarInt(1, true); // class written by name
		output.writeVarInt(nameId, true);
		output.writeAscii(className);
	}

}
