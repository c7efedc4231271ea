/**
 * Sticky mode: sessions served from this server's memory, memcached as the copy another
 * server takes over from.
 */
@NullMarked
package io.github.msm.session.sticky;

import org.jspecify.annotations.NullMarked;
