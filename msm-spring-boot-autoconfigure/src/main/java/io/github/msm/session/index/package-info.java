/**
 * The principal index: the ids of each user's sessions in memcached, to find sessions by
 * user name.
 */
@NullMarked
package io.github.msm.session.index;

import org.jspecify.annotations.NullMarked;
