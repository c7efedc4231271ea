package io.github.msm.session.serializer;

import java.io.IOException;
import java.io.InvalidClassException;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamException;
import java.io.OutputStream;

/**
 * {@link ObjectOutputStream} that refuses to write a class outside a
 * {@link ClassAllowList}.
 *
 * <p>
 * No server could read such a value back, so failing when the attribute is stored tells
 * the developer at once instead of on the next request.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class AllowListObjectOutputStream extends ObjectOutputStream {

	private final ClassAllowList allowList;

	AllowListObjectOutputStream(OutputStream out, ClassAllowList allowList) throws IOException {
		super(out);
		this.allowList = allowList;
	}

	@Override
	protected void annotateClass(Class<?> type) throws IOException {
		if (!isOwnFailure(type) && !this.allowList.isAllowed(type)) {
			throw new InvalidClassException(type.getName(), ClassAllowList.notAllowedMessage(type.getName()));
		}
	}

	/**
	 * Whether the class is part of the exception the stream writes into itself when it
	 * fails (such as {@link java.io.NotSerializableException}); refusing it would replace
	 * the actual failure with a refusal.
	 */
	private static boolean isOwnFailure(Class<?> type) {
		return ObjectStreamException.class.isAssignableFrom(type) || type == IOException.class;
	}

	@Override
	protected void annotateProxyClass(Class<?> type) throws IOException {
		throw new InvalidClassException(type.getName(), "Proxy classes are not allowed in a session");
	}

}
