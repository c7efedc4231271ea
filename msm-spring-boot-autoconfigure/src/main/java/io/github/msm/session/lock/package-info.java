/**
 * Session locks for non-sticky mode: one request at a time per session, across servers,
 * held in memcached under {@code lock:<prefix><id>} on the session's node with an owner
 * token, and the servlet filter that takes them around Spring Session's filter.
 */
@NullMarked
package io.github.msm.session.lock;

import org.jspecify.annotations.NullMarked;
