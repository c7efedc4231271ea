package io.github.msm.sample;

import java.net.http.HttpResponse;

import org.jspecify.annotations.Nullable;

/** What the load tests share: reading the session cookie, id bases and percentiles. */
final class LoadSupport {

	private LoadSupport() {
	}

	/** The {@code SESSION} cookie the answer sets, or {@code null}. */
	static @Nullable String sessionCookie(HttpResponse<?> response) {
		for (String header : response.headers().allValues("Set-Cookie")) {
			if (header.startsWith("SESSION=")) {
				int end = header.indexOf(';');
				return header.substring("SESSION=".length(), (end < 0) ? header.length() : end);
			}
		}
		return null;
	}

	/** The id without its node suffix: {@code <32 hex>-n2} → {@code <32 hex>}. */
	static String base(String sessionId) {
		int dash = sessionId.lastIndexOf('-');
		return (dash < 0) ? sessionId : sessionId.substring(0, dash);
	}

	/** The given percentile of sorted nanosecond latencies, in milliseconds. */
	static double percentile(long[] sorted, double fraction) {
		if (sorted.length == 0) {
			return 0;
		}
		int index = (int) Math.ceil(fraction * sorted.length) - 1;
		return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
	}

}
