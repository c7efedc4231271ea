package io.github.msm.session.serializer.untrusted;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serializable;

/**
 * Stands for a deserialization gadget. No test may reference this class directly: it
 * records in {@link GadgetEvents} whether it was ever initialized, constructed (as Kryo
 * would) or read by its own {@code readObject} (as Java serialization would).
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

	private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
		GadgetEvents.READ.set(true);
		in.defaultReadObject();
	}

}
