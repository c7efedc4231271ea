/**
 * Drains that hold for the whole fleet: a drain of a node is an item on every memcached
 * node, which every server reads.
 */
@NullMarked
package io.github.msm.session.drain;

import org.jspecify.annotations.NullMarked;
