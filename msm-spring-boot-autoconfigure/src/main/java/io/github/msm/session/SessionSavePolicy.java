package io.github.msm.session;

import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

import org.springframework.session.FlushMode;
import org.springframework.session.SaveMode;
import org.springframework.util.Assert;

/**
 * Which attributes a save writes, and when: Spring Session's {@link FlushMode} and
 * {@link SaveMode}, and msm's attribute filter, mapped onto this store's rule that an
 * attribute is written only when its serialized bytes changed.
 *
 * <ul>
 * <li>{@link SaveMode#ON_GET_ATTRIBUTE} (the default): every attribute the request read
 * or set is serialized at save and compared with the stored bytes; changed ones are
 * written. A mutable value changed in place is saved without {@code setAttribute}.</li>
 * <li>{@link SaveMode#ON_SET_ATTRIBUTE}: only attributes set with {@code setAttribute}
 * are serialized and compared. Cheaper for sessions with large attributes that are
 * mostly read; a value changed in place is lost unless it is set again.</li>
 * <li>{@link SaveMode#ALWAYS}: the first save of each request writes every attribute
 * as this request sees it, changed or not, over what other servers wrote meanwhile (last
 * writer wins per attribute, as in Spring Session's stores). Costs a data write per
 * request that uses the session.</li>
 * </ul>
 * With {@link FlushMode#IMMEDIATE} each {@code setAttribute}, {@code removeAttribute}
 * and {@code setMaxInactiveInterval} saves the session at once (through the same
 * compare-and-set write), so that a long request or a WebSocket session shows its changes
 * to other requests before it ends. The attribute filter is a regular expression that an
 * attribute name must match as a whole to be stored; other attributes live only in the
 * session object of the request that set them and are never written.
 *
 * @param flushMode when changes are written
 * @param saveMode which attributes a save serializes and writes
 * @param attributeFilter names of the attributes that are stored, {@code null} for all
 * @author msm-spring-boot
 * @since 0.1.0
 */
public record SessionSavePolicy(FlushMode flushMode, SaveMode saveMode, @Nullable Pattern attributeFilter) {

	/** Writes at save, what was read or set and changed, every attribute. */
	public static final SessionSavePolicy DEFAULT = new SessionSavePolicy(FlushMode.ON_SAVE,
			SaveMode.ON_GET_ATTRIBUTE, null);

	public SessionSavePolicy {
		Assert.notNull(flushMode, "flushMode must not be null");
		Assert.notNull(saveMode, "saveMode must not be null");
	}

	/** Whether an attribute of this name is written to memcached. */
	boolean isStored(String attributeName) {
		return this.attributeFilter == null || this.attributeFilter.matcher(attributeName).matches();
	}

	/** Whether attributes that were only read are serialized and compared at save. */
	boolean savesReadAttributes() {
		return this.saveMode != SaveMode.ON_SET_ATTRIBUTE;
	}

	/** Whether the first save of a loaded session writes all its attributes. */
	boolean savesAllAttributes() {
		return this.saveMode == SaveMode.ALWAYS;
	}

	/** Whether each change is written at once. */
	boolean isImmediate() {
		return this.flushMode == FlushMode.IMMEDIATE;
	}

}
