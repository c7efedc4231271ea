/**
 * Byte-level storage over spymemcached: each call names the node it goes to.
 */
@NullMarked
package io.github.msm.session.storage;

import org.jspecify.annotations.NullMarked;
