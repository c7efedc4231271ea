/**
 * Memcached nodes, their ring and the choice of primary and backup node.
 */
@NullMarked
package io.github.msm.session.node;

import org.jspecify.annotations.NullMarked;
