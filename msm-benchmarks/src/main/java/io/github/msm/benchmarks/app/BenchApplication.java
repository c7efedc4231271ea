package io.github.msm.benchmarks.app;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The application {@code run-e2e.sh} drives: a login-free JSON API over a ~3 KB session,
 * the same jar for every variant. The variant is chosen on the command line, so that the
 * variants differ only in where sessions live:
 * <ul>
 * <li>msm non-sticky: {@code --msm.nodes=n1:…,n2:…} (the default profile)</li>
 * <li>msm sticky: the same plus {@code --msm.sticky=true --msm.jvm-route=…}</li>
 * <li>Redis: {@code --msm.enabled=false --spring.data.redis.port=…} (Boot's default,
 * non-indexed repository)</li>
 * <li>in-memory: {@code --msm.enabled=false --spring.profiles.active=inmemory} (a
 * {@code MapSessionRepository})</li>
 * </ul>
 * Tomcat and the JVM stay at Boot's defaults: they belong to the application, not to the
 * store under test.
 *
 * @author msm-spring-boot
 */
@SpringBootApplication
public class BenchApplication {

	public static void main(String[] args) {
		SpringApplication.run(BenchApplication.class, args);
	}

}
