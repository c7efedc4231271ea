package io.github.msm.session.serializer.untrusted;

import java.io.Serializable;

/**
 * Written by a permissive serializer; its name is then patched in the bytes into
 * {@code Decoy2} or {@code Gadget}, both of the same length and shape.
 */
public class Decoy1 implements Serializable {

	private static final long serialVersionUID = 1L;

	private String payload = "payload";

	public String getPayload() {
		return this.payload;
	}

}
