package io.github.msm.session.serializer.testapp;

/**
 * An application class that does not implement {@link java.io.Serializable}.
 */
public class NotSerializableThing {

	private final String value = "value";

	public String getValue() {
		return this.value;
	}

}
