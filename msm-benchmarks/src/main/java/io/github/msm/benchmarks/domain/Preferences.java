package io.github.msm.benchmarks.domain;

import java.io.Serializable;
import java.time.ZoneId;
import java.util.Locale;

/** Display preferences. */
public record Preferences(Locale locale, ZoneId zone, Theme theme, int pageSize) implements Serializable {

	/** The colour scheme. */
	public enum Theme {

		/** Light background. */
		LIGHT,

		/** Dark background. */
		DARK

	}

}
