package io.github.msm.session.serializer;

/**
 * Thrown when an attribute value cannot be serialized or deserialized, including when
 * its class is outside the allow-list.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public class SessionSerializationException extends RuntimeException {

	public SessionSerializationException(String message) {
		super(message);
	}

	public SessionSerializationException(String message, Throwable cause) {
		super(message, cause);
	}

}
