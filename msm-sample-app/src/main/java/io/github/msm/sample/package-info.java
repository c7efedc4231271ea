/**
 * A demo web application whose sessions live in memcached: a page behind form login
 * and a small JSON API over the current session.
 */
@NullMarked
package io.github.msm.sample;

import org.jspecify.annotations.NullMarked;
