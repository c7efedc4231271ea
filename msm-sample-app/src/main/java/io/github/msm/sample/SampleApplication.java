package io.github.msm.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The sample application. Every setting is an ordinary Boot property, so one jar serves
 * every setup, for example:
 *
 * <pre class="code">
 * APP_INSTANCE=app1 java -jar msm-sample-app.jar --server.port=8081 --msm.nodes="n1:127.0.0.1:11211 n2:127.0.0.1:11212"
 * </pre>
 *
 * @author msm-spring-boot
 */
@SpringBootApplication
public class SampleApplication {

	public static void main(String[] args) {
		SpringApplication.run(SampleApplication.class, args);
	}

}
