/**
 * Serialization of session attributes behind a small SPI, with class allow-lists.
 */
@NullMarked
package io.github.msm.session.serializer;

import org.jspecify.annotations.NullMarked;
