/**
 * Session locks: one request at a time per session (per id base, so every id a session
 * had shares one lock). Non-sticky mode: across servers, held in memcached under
 * {@code lock:<prefix><base>} on the first node up from the base's home node, with an
 * owner token. Sticky mode: inside the owner server only. And the servlet filter that
 * takes them around Spring Session's filter.
 */
@NullMarked
package io.github.msm.session.lock;

import org.jspecify.annotations.NullMarked;
