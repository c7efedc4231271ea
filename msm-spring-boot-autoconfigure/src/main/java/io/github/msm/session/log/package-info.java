/**
 * What the store writes into log lines about sessions: never a session id (a credential),
 * only a short tag that lets an operator follow one session through the log.
 */
@NullMarked
package io.github.msm.session.log;

import org.jspecify.annotations.NullMarked;
