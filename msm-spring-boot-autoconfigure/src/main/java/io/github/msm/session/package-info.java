/**
 * The memcached Spring Session store: repository, session, id format and TTL rules.
 */
@NullMarked
package io.github.msm.session;

import org.jspecify.annotations.NullMarked;
