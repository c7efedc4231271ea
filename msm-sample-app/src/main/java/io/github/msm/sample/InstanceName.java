package io.github.msm.sample;

import java.net.InetAddress;
import java.net.UnknownHostException;

import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;
import org.springframework.util.StringUtils;

/**
 * The name of this server, shown on the page and in the API so that a failover is
 * visible: {@code app.instance} (the environment variable {@code APP_INSTANCE} binds to
 * it), else {@code msm.jvm-route}, else {@code host:port}.
 *
 * @author msm-spring-boot
 */
@Component
public class InstanceName {

	private final Environment environment;

	public InstanceName(Environment environment) {
		this.environment = environment;
	}

	/**
	 * The name, resolved on each call because the port is only known once the web server
	 * has started.
	 * @return the instance name, never empty
	 */
	public String get() {
		for (String property : new String[] { "app.instance", "msm.jvm-route" }) {
			String value = this.environment.getProperty(property);
			if (StringUtils.hasText(value)) {
				return value.trim();
			}
		}
		String port = this.environment.getProperty("local.server.port",
				this.environment.getProperty("server.port", "8080"));
		return hostName() + ":" + port;
	}

	private static String hostName() {
		try {
			return InetAddress.getLocalHost().getHostName();
		}
		catch (UnknownHostException ex) {
			return "localhost";
		}
	}

}
