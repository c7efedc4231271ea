package io.github.msm.session.storage;

/**
 * Bytes read from memcached with the CAS token that lets a later write detect that
 * somebody else wrote in between.
 *
 * @param bytes the stored bytes
 * @param cas the CAS token of this version
 * @author msm-spring-boot
 * @since 0.1.0
 */
public record StoredValue(byte[] bytes, long cas) {

}
