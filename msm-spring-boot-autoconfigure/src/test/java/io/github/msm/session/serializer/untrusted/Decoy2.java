package io.github.msm.session.serializer.untrusted;

import java.io.Serializable;

/**
 * Same shape as {@link Decoy1}; proves that patched bytes are valid.
 */
public class Decoy2 implements Serializable {

	private static final long serialVersionUID = 1L;

	private String payload = "payload";

	public String getPayload() {
		return this.payload;
	}

}
