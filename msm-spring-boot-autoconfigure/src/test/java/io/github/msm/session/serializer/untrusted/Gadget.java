package io.github.msm.session.serializer.untrusted;

import java.io.Serializable;

/**
 * Stands for a deserialization gadget. No test may reference this class directly: it
 * records in {@link GadgetEvents} whether it was ever initialized or constructed.
 */
public class Gadget implements Serializable {

	private static final long serialVersionUID = 1L;

	static {
		GadgetEvents.INITIALIZED.set(true);
	}

	private String payload = "payload";

	public Gadget() {
		GadgetEvents.CONSTRUCTED.set(true);
	}

	public String getPayload() {
		return this.payload;
	}

}
