package io.github.msm.session.storage;

/**
 * What a write did, and the CAS token of the value it stored, so that the writer's next
 * compare-and-set needs no read first.
 *
 * @param result the outcome
 * @param cas the CAS token of the stored value; 0 when the write failed or the protocol
 * does not report it (text)
 * @author msm-spring-boot
 * @since 0.1.0
 */
public record WriteOutcome(WriteResult result, long cas) {

	static final WriteOutcome FAILED = new WriteOutcome(WriteResult.FAILED, 0);

	public boolean isOk() {
		return this.result == WriteResult.OK;
	}

}
