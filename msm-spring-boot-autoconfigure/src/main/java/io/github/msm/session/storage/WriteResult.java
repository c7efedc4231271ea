package io.github.msm.session.storage;

/**
 * Outcome of a conditional write: a compare-and-set or a delete.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public enum WriteResult {

	/** The item was written (or deleted). */
	OK,

	/** Somebody wrote the item since it was read: re-read, merge, try again. */
	CONFLICT,

	/** The item is gone (deleted, expired or evicted): writing would resurrect it. */
	NOT_FOUND,

	/** The node did not answer or failed. */
	FAILED

}
