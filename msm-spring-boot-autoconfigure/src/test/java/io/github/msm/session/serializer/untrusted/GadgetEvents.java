package io.github.msm.session.serializer.untrusted;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What happened to {@code Gadget}, kept outside it so that reading the flags does not
 * initialize it.
 */
public final class GadgetEvents {

	public static final String GADGET_CLASS_NAME = "io.github.msm.session.serializer.untrusted.Gadget";

	public static final AtomicBoolean INITIALIZED = new AtomicBoolean();

	public static final AtomicBoolean CONSTRUCTED = new AtomicBoolean();

	public static final AtomicBoolean READ = new AtomicBoolean();

	private GadgetEvents() {
	}

}
