package io.github.msm.session;

import io.github.msm.session.SessionCodec.Access;
import io.github.msm.session.SessionCodec.Data;
import io.github.msm.session.SessionCodec.Validity;
import org.jspecify.annotations.Nullable;

/**
 * A session as one request read it from memcached: the data item, the CAS token that
 * lets a write detect any write since, and the access in force.
 *
 * @param data the data item
 * @param cas the data item's CAS token
 * @param access the validity item's access if it extends this version of the data,
 * else the data item's own
 * @param validityCas the CAS token of the validity item (of any version), 0 when there is
 * none, so that an access write never replaces a newer one
 * @author msm-spring-boot
 * @since 0.1.0
 */
record StoredSession(Data data, long cas, Access access, long validityCas) {

	StoredSession(Data data, long cas, Access access) {
		this(data, cas, access, 0);
	}

	static StoredSession of(Data data, long cas, @Nullable Validity validity, long validityCas) {
		Access access = (validity != null && validity.version() == data.version()) ? validity.access() : data.access();
		return new StoredSession(data, cas, access, validityCas);
	}

	long version() {
		return this.data.version();
	}

}
