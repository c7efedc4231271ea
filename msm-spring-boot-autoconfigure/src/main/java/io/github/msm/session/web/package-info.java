/**
 * Servlet glue of the store that Spring Session does not provide.
 */
@NullMarked
package io.github.msm.session.web;

import org.jspecify.annotations.NullMarked;
