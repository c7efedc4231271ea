package io.github.msm.session.storage;

import net.spy.memcached.CachedData;
import net.spy.memcached.transcoders.Transcoder;

/**
 * Passes bytes through untouched. spymemcached's default transcoder gzips values over
 * 16 KiB and Java-serializes objects; the store decides on encoding itself.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
final class RawBytesTranscoder implements Transcoder<byte[]> {

	static final RawBytesTranscoder INSTANCE = new RawBytesTranscoder();

	@Override
	public boolean asyncDecode(CachedData data) {
		return false;
	}

	@Override
	public CachedData encode(byte[] bytes) {
		return new CachedData(0, bytes, Integer.MAX_VALUE);
	}

	@Override
	public byte[] decode(CachedData data) {
		return data.getData();
	}

	@Override
	public int getMaxSize() {
		return Integer.MAX_VALUE;
	}

}
