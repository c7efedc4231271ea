package io.github.msm.session.serializer;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;

import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * The classes a {@link SessionSerializer} may load and instantiate when it reads a
 * session.
 *
 * <p>
 * Anyone who can reach memcached can write a session, so the bytes we read are untrusted
 * input: the class names they carry must be checked before the class is loaded, let alone
 * instantiated. {@link #isAllowed(String)} therefore works on the name alone.
 *
 * <p>
 * An entry {@code com.example} allows the classes of package {@code com.example} and of
 * its sub-packages. Always allowed are primitives, arrays of allowed component types, the
 * packages {@code java.lang} (without sub-packages such as {@code java.lang.reflect}),
 * {@code java.util}, {@code java.util.concurrent}, {@code java.util.concurrent.atomic},
 * {@code java.math}, {@code java.time} with its sub-packages, the class
 * {@code java.net.URI}, and the three lock classes that the serialized form of
 * {@code ConcurrentHashMap} contains. A few classes that control processes, threads or class loading
 * are refused even when their package is allowed.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 * @see #of(Collection)
 */
public final class ClassAllowList {

	/**
	 * Packages that most applications store in the session besides their own: Spring
	 * Security's authentication tokens, users, security context and saved requests.
	 */
	public static final List<String> DEFAULT_PACKAGES = List.of("org.springframework.security");

	private static final Set<String> JDK_PACKAGES = Set.of("java.lang", "java.util", "java.util.concurrent",
			"java.util.concurrent.atomic", "java.math", "java.time");

	/**
	 * Single classes allowed with their nested classes. The locks are part of the
	 * serialized form of {@code ConcurrentHashMap}.
	 */
	private static final List<String> JDK_CLASSES = List.of("java.net.URI",
			"java.util.concurrent.locks.AbstractOwnableSynchronizer",
			"java.util.concurrent.locks.AbstractQueuedSynchronizer", "java.util.concurrent.locks.ReentrantLock");

	/**
	 * Classes refused even in an allowed package, together with their nested classes.
	 * Objenesis can create them without running a constructor, and their state reaches
	 * the operating system, threads or class loading.
	 */
	private static final List<String> DENIED_CLASSES = List.of("java.lang.ApplicationShutdownHooks",
			"java.lang.ClassLoader", "java.lang.InheritableThreadLocal", "java.lang.Module", "java.lang.ModuleLayer",
			"java.lang.Process", "java.lang.ProcessBuilder", "java.lang.ProcessHandle", "java.lang.ProcessHandleImpl",
			"java.lang.ProcessImpl", "java.lang.Runtime", "java.lang.ScopedValue", "java.lang.SecurityManager",
			"java.lang.Shutdown", "java.lang.StackWalker", "java.lang.System", "java.lang.Thread",
			"java.lang.ThreadGroup", "java.lang.ThreadLocal", "java.lang.VirtualThread", "java.util.ServiceLoader",
			"java.util.Timer", "java.util.TimerTask", "java.util.TimerThread", "java.util.concurrent.Executors",
			"java.util.concurrent.ForkJoinPool", "java.util.concurrent.ForkJoinWorkerThread",
			"java.util.concurrent.ScheduledThreadPoolExecutor", "java.util.concurrent.ThreadPoolExecutor");

	/**
	 * Supertypes refused wherever the subclass lives; checked once a class is loaded
	 * (without initialization), see {@link #isAllowed(Class)}.
	 */
	private static final List<Class<?>> DENIED_SUPERTYPES = List.of(ClassLoader.class, Thread.class, Process.class,
			Executor.class);

	private static final Set<String> PRIMITIVES = Set.of("boolean", "byte", "char", "short", "int", "long", "float",
			"double");

	private final List<String> packages;

	private ClassAllowList(List<String> packages) {
		this.packages = packages;
	}

	/**
	 * Create an allow-list of the given packages on top of the always-allowed JDK
	 * classes.
	 * @param packages package names such as {@code com.example.shop}; each also allows
	 * its sub-packages
	 * @return the allow-list
	 * @see #DEFAULT_PACKAGES
	 */
	public static ClassAllowList of(Collection<String> packages) {
		Assert.notNull(packages, "'packages' must not be null");
		Set<String> names = new LinkedHashSet<>();
		for (String name : packages) {
			Assert.hasText(name, "'packages' must not contain empty names");
			String trimmed = name.strip();
			Assert.isTrue(!trimmed.contains("*") && !trimmed.startsWith(".") && !trimmed.endsWith("."),
					() -> "'" + name + "' is not a package name; write a plain name such as 'com.example', "
							+ "which also allows its sub-packages");
			names.add(trimmed);
		}
		return new ClassAllowList(List.copyOf(names));
	}

	/**
	 * Return the configured packages, without the always-allowed JDK classes.
	 * @return the packages, in the order given
	 */
	public List<String> getPackages() {
		return this.packages;
	}

	/**
	 * Return whether a class may be loaded, judging by its name only so that the check
	 * can run before {@link Class#forName}.
	 * @param className a binary class name as {@link Class#getName()} returns it,
	 * including array names such as {@code [Ljava.lang.String;}
	 * @return {@code true} if the class may be loaded
	 */
	public boolean isAllowed(@Nullable String className) {
		String name = componentName(className);
		if (name == null) {
			return false;
		}
		if (PRIMITIVES.contains(name)) {
			return true;
		}
		if (matchesAny(name, DENIED_CLASSES)) {
			return false;
		}
		String packageName = packageName(name);
		if (JDK_PACKAGES.contains(packageName) || packageName.startsWith("java.time.")
				|| matchesAny(name, JDK_CLASSES)) {
			return true;
		}
		for (String allowed : this.packages) {
			if (packageName.equals(allowed) || packageName.startsWith(allowed + ".")) {
				return true;
			}
		}
		return false;
	}

	/**
	 * Return whether a loaded class may be instantiated: its name must be allowed and it
	 * must not extend a refused supertype such as {@link ClassLoader} or {@link Thread}.
	 * @param type the class, loaded without initialization
	 * @return {@code true} if the class may be instantiated
	 */
	public boolean isAllowed(Class<?> type) {
		Class<?> component = type;
		while (component.isArray()) {
			component = component.getComponentType();
		}
		if (component.isPrimitive()) {
			return true;
		}
		if (!isAllowed(component.getName())) {
			return false;
		}
		for (Class<?> denied : DENIED_SUPERTYPES) {
			if (denied.isAssignableFrom(component)) {
				return false;
			}
		}
		return true;
	}

	/**
	 * Describe a refused class so that the developer knows what to configure.
	 * @param className the refused class
	 * @return the message
	 */
	static String notAllowedMessage(String className) {
		return "Class " + className + " is not allowed in a session; if it is yours, add its package to "
				+ "'msm.serialization.allowed-packages'";
	}

	/**
	 * Strip array dimensions: {@code [[Lcom.example.Foo;} becomes
	 * {@code com.example.Foo}, {@code [I} becomes {@code int}.
	 */
	private static @Nullable String componentName(@Nullable String className) {
		if (className == null || className.isEmpty()) {
			return null;
		}
		int dimensions = 0;
		while (dimensions < className.length() && className.charAt(dimensions) == '[') {
			dimensions++;
		}
		if (dimensions == 0) {
			return className;
		}
		String element = className.substring(dimensions);
		if (element.length() == 1) {
			return switch (element.charAt(0)) {
				case 'Z' -> "boolean";
				case 'B' -> "byte";
				case 'C' -> "char";
				case 'S' -> "short";
				case 'I' -> "int";
				case 'J' -> "long";
				case 'F' -> "float";
				case 'D' -> "double";
				default -> null;
			};
		}
		if (element.length() > 2 && element.charAt(0) == 'L' && element.endsWith(";")) {
			return element.substring(1, element.length() - 1);
		}
		return null;
	}

	/**
	 * Whether the class is one of the given classes or nested in one of them.
	 */
	private static boolean matchesAny(String className, List<String> classNames) {
		for (String candidate : classNames) {
			if (className.startsWith(candidate)
					&& (className.length() == candidate.length() || className.charAt(candidate.length()) == '$')) {
				return true;
			}
		}
		return false;
	}

	private static String packageName(String className) {
		int lastDot = className.lastIndexOf('.');
		return (lastDot != -1) ? className.substring(0, lastDot) : "";
	}

	@Override
	public String toString() {
		return "ClassAllowList " + this.packages;
	}

}
