package io.github.msm.session.serializer;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.DefaultClassResolver;
import com.esotericsoftware.kryo.util.IntMap;
import com.esotericsoftware.kryo.util.ObjectMap;
import org.jspecify.annotations.Nullable;

/**
 * Kryo {@link com.esotericsoftware.kryo.ClassResolver} that identifies classes by name
 * and checks every name against a {@link ClassAllowList}.
 *
 * <p>
 * Two decisions make stored sessions safe to share between servers:
 * <ul>
 * <li>Only the registrations Kryo makes in its constructor (primitives and
 * {@code String}, identical in every Kryo) are written as numeric ids. Every other class
 * is written by name, even if a customizer registered it, so servers whose registration
 * order differs still read each other's bytes.</li>
 * <li>A class name read from the bytes is checked before {@link Class#forName} runs, so
 * a refused class is never loaded, initialized or instantiated. The loaded class is
 * checked again for refused supertypes. Writing a refused class fails too, which tells
 * the developer at once instead of on the next request.</li>
 * </ul>
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
class KryoAllowListClassResolver extends DefaultClassResolver {

	private final ClassAllowList allowList;

	/**
	 * Highest id Kryo registered in its constructor; -1 until
	 * {@link #lockBuiltInRegistrations()} runs.
	 */
	private int maxBuiltInId = -1;

	KryoAllowListClassResolver(ClassAllowList allowList) {
		this.allowList = allowList;
	}

	/**
	 * Remember the registrations made so far as the only ones that may be written as
	 * ids. Call right after the {@link Kryo} constructor, before any customization.
	 */
	void lockBuiltInRegistrations() {
		this.maxBuiltInId = this.kryo.getNextRegistrationId() - 1;
	}

	@Override
	public Registration registerImplicit(Class type) {
		checkAllowed(type);
		return super.registerImplicit(type);
	}

	@Override
	public @Nullable Registration writeClass(Output output, @Nullable Class type) {
		if (type == null) {
			return super.writeClass(output, null);
		}
		Registration registration = this.kryo.getRegistration(type);
		if (isBuiltIn(registration.getId())) {
			output.writeVarInt(registration.getId() + 2, true);
		}
		else {
			writeName(output, type, registration);
		}
		return registration;
	}

	@Override
	protected void writeName(Output output, Class type, Registration registration) {
		if (this.classToNameId == null || this.classToNameId.get(type, -1) == -1) {
			checkAllowed(type);
		}
		super.writeName(output, type, registration);
	}

	@Override
	public @Nullable Registration readClass(Input input) {
		int classId = input.readVarInt(true);
		if (classId == Kryo.NULL) {
			return null;
		}
		if (classId == NAME + 2) {
			return readName(input);
		}
		int id = classId - 2;
		Registration registration = isBuiltIn(id) ? getRegistration(id) : null;
		if (registration == null) {
			throw new KryoException("Encountered class ID " + id + ", but only built-in ids are ever written");
		}
		return registration;
	}

	@Override
	protected Registration readName(Input input) {
		int nameId = input.readVarInt(true);
		if (this.nameIdToClass == null) {
			this.nameIdToClass = new IntMap<>();
		}
		Class<?> type = this.nameIdToClass.get(nameId);
		if (type == null) {
			String className = input.readString();
			if (className == null) {
				throw new KryoException("Encountered a missing class name");
			}
			type = getTypeByName(className);
			if (type == null) {
				type = loadClass(className);
				if (this.nameToClass == null) {
					this.nameToClass = new ObjectMap<>();
				}
				this.nameToClass.put(className, type);
			}
			this.nameIdToClass.put(nameId, type);
		}
		return this.kryo.getRegistration(type);
	}

	private Class<?> loadClass(String className) {
		if (!this.allowList.isAllowed(className)) {
			throw new KryoException(ClassAllowList.notAllowedMessage(className));
		}
		Class<?> type;
		try {
			type = Class.forName(className, false, this.kryo.getClassLoader());
		}
		catch (ClassNotFoundException ex) {
			throw new KryoException("Unable to find class: " + className, ex);
		}
		checkAllowed(type);
		return type;
	}

	private void checkAllowed(Class<?> type) {
		if (!this.allowList.isAllowed(type)) {
			throw new KryoException(ClassAllowList.notAllowedMessage(type.getName()));
		}
	}

	private boolean isBuiltIn(int id) {
		return id >= 0 && id <= this.maxBuiltInId;
	}

}
