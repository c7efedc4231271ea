package io.github.msm.session.serializer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Output;

/**
 * Object graphs that are small in a stream but costly to read, as whoever can write to
 * memcached could plant them, and writers without the depth limit to produce their bytes.
 * Public for the integration tests that plant them in a stored session.
 */
public final class CraftedGraphs {

	private CraftedGraphs() {
	}

	/**
	 * Sets of two sets of two sets…, {@code depth} levels deep, in which both sets of a
	 * level hold both sets of the next: thanks to back-references the stream grows by a
	 * few bytes per level, while hashing the root visits 2<sup>depth</sup> sets.
	 * @param depth the number of levels below the root
	 * @return the root set
	 */
	public static Set<Object> nestedSets(int depth) {
		Set<Object> root = new HashSet<>();
		Set<Object> left = root;
		Set<Object> right = new HashSet<>();
		for (int i = 0; i < depth; i++) {
			Set<Object> nextLeft = new HashSet<>();
			Set<Object> nextRight = new HashSet<>();
			nextLeft.add("left"); // so that the two sets of a level differ
			left.add(nextLeft);
			left.add(nextRight);
			right.add(nextLeft);
			right.add(nextRight);
			left = nextLeft;
			right = nextRight;
		}
		return root;
	}

	/**
	 * Like {@link #nestedSets(int)} with {@code width} sets per level, each holding all
	 * sets of the next level and a marker that makes it differ from its siblings: hashing
	 * the root visits width<sup>levels</sup> sets while the stream holds
	 * {@code width × levels} of them.
	 * @param width the number of sets per level
	 * @param levels the number of levels below the root
	 * @return the root set
	 */
	public static Set<Object> wideNestedSets(int width, int levels) {
		// top-down, each set added to its parents while it holds only its marker, so that
		// building the graph hashes nothing big
		Set<Object> root = new HashSet<>();
		List<Set<Object>> parents = List.of(root);
		for (int i = 0; i < levels; i++) {
			List<Set<Object>> level = new ArrayList<>();
			for (int j = 0; j < width; j++) {
				Set<Object> set = new HashSet<>();
				set.add(j);
				level.add(set);
			}
			for (Set<Object> parent : parents) {
				parent.addAll(level);
			}
			parents = level;
		}
		return root;
	}

	/**
	 * A chain of {@code length} lists, each holding the next, followed by a set that holds
	 * the first. The lists are written last one first, so each is read at depth 2 and the
	 * stream is shallow, but hashing the first list for the set recurses through all of
	 * them.
	 * @param length the number of lists in the chain
	 * @return a list of the chain's lists and, last, the set
	 */
	public static List<Object> listChainInSet(int length) {
		List<List<Object>> chain = new ArrayList<>(length);
		for (int i = 0; i < length; i++) {
			chain.add(new ArrayList<>(1));
		}
		Set<Object> set = new HashSet<>();
		set.add(chain.get(0)); // hashed here while still empty
		for (int i = 0; i < length - 1; i++) {
			chain.get(i).add(chain.get(i + 1));
		}
		List<Object> root = new ArrayList<>(length + 1);
		for (int i = length - 1; i >= 0; i--) {
			root.add(chain.get(i));
		}
		root.add(set);
		return root;
	}

	/**
	 * Kryo bytes as {@link KryoSessionSerializer} writes them, without its depth limit.
	 * @param graph the value
	 * @return the bytes
	 */
	public static byte[] kryoBytes(Object graph) {
		Kryo kryo = SessionKryo.create(ClassAllowList.of(List.of()), CraftedGraphs.class.getClassLoader());
		kryo.setMaxDepth(Integer.MAX_VALUE);
		Output output = new Output(4096, -1);
		kryo.writeClassAndObject(output, graph);
		return output.toBytes();
	}

	/**
	 * Java serialization bytes, as {@link JdkSessionSerializer} writes them.
	 * @param graph the value
	 * @return the bytes
	 */
	public static byte[] jdkBytes(Object graph) {
		ByteArrayOutputStream bytes = new ByteArrayOutputStream();
		try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
			out.writeObject(graph);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		return bytes.toByteArray();
	}

}
