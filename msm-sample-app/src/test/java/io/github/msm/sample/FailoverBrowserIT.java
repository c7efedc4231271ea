package io.github.msm.sample;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import io.github.msm.test.MemcachedServers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The demo as a user sees it: two app instances behind nginx, driven by headless
 * Chromium. After one instance goes away, the other carries on with the session it
 * finds in memcached: still logged in, same counter. After the memcached node holding the
 * session goes away, the session moves to another node: still logged in, same counter,
 * same id base with the new node's suffix, and the page says so.
 */
@Timeout(120)
class FailoverBrowserIT {

	/** Debian's chromium; {@code CHROMIUM_BINARY} points elsewhere (another Chrome). */
	private static final Path CHROMIUM = executable("CHROMIUM_BINARY", "chromium");

	/** Debian's chromium-driver; {@code CHROMEDRIVER} points elsewhere. */
	private static final Path CHROMEDRIVER = executable("CHROMEDRIVER", "chromedriver");

	private static final Path EVIDENCE = Path.of("target");

	@RegisterExtension
	static final MemcachedServers memcached = MemcachedServers.nodes(3);

	@TempDir
	Path temp;

	private final Map<String, ConfigurableApplicationContext> apps = new LinkedHashMap<>();

	private NginxProxy nginx;

	private WebDriver browser;

	private WebDriverWait wait;

	@BeforeEach
	void startDemo() throws IOException {
		assertThat(CHROMIUM).as("chromium: apt-get install -y chromium chromium-driver, or set CHROMIUM_BINARY")
			.isExecutable();
		assertThat(CHROMEDRIVER).as("chromedriver: apt-get install -y chromium-driver, or set CHROMEDRIVER")
			.isExecutable();
		this.apps.put("app1", SampleApps.startApp(memcached, "app1"));
		this.apps.put("app2", SampleApps.startApp(memcached, "app2"));
		this.nginx = NginxProxy.start(Files.createDirectory(this.temp.resolve("nginx")),
				this.apps.values().stream().map(SampleApps::port).toList());
		this.browser = startBrowser(Files.createDirectory(this.temp.resolve("chromium")));
		this.wait = new WebDriverWait(this.browser, Duration.ofSeconds(15));
	}

	@AfterEach
	void stopDemo() throws IOException {
		if (this.browser != null) {
			this.browser.quit();
		}
		if (this.nginx != null) {
			this.nginx.close();
			Files.copy(this.nginx.accessLog(), EVIDENCE.resolve("e2e-nginx-access.log"),
					StandardCopyOption.REPLACE_EXISTING);
		}
		this.apps.values().forEach(ConfigurableApplicationContext::close);
	}

	@Test
	void stoppingTheServingInstance_ShouldKeepUserLoggedInWithTheSameSession() throws IOException {
		logInAndCountTo(3);
		String served = this.browser.findElement(By.id("instance")).getText();
		String sessionId = this.browser.findElement(By.id("session-id")).getText();
		screenshot("e2e-before-failover.png");
		assertThat(this.apps).containsKey(served);

		this.apps.remove(served).close();
		this.browser.navigate().refresh();

		String survivor = this.apps.keySet().iterator().next();
		this.wait.until(ExpectedConditions.textToBe(By.id("instance"), survivor));
		this.wait.until(ExpectedConditions.textToBe(By.id("counter"), "3"));
		screenshot("e2e-failover.png");
		assertThat(this.browser.getCurrentUrl()).doesNotContain("/login");
		assertThat(this.browser.findElement(By.id("user")).getText()).isEqualTo("demo");
		assertThat(this.browser.findElement(By.id("session-id")).getText()).isEqualTo(sessionId);

		// The CSRF token lives in the session too, so the survivor accepts the logout form.
		this.browser.findElement(By.cssSelector("#logout button")).click();
		this.wait.until(ExpectedConditions.urlContains("/login?logout"));
	}

	@Test
	void killingTheSessionsNode_ShouldMoveTheSessionToAnotherNodeUnderANewIdSuffix() throws IOException {
		logInAndCountTo(3);
		String node = text("node");
		String sessionId = text("session-id");
		assertThat(sessionId).matches("[0-9a-f]{32}-" + node);
		String base = sessionId.substring(0, sessionId.lastIndexOf('-'));
		assertThat(this.browser.findElement(By.id("moved")).isDisplayed()).isFalse();
		screenshot("e2e-before-node-failover.png");

		memcached.node(node).kill();
		this.browser.navigate().refresh();

		this.wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("moved")));
		String newNode = text("node");
		assertThat(newNode).isNotEqualTo(node).isIn("n1", "n2", "n3");
		assertThat(text("session-id")).isEqualTo(base + "-" + newNode);
		assertThat(this.browser.manage().getCookieNamed("SESSION").getValue()).isEqualTo(base + "-" + newNode);
		assertThat(text("moved")).startsWith("Session moved from " + node + " to " + newNode)
			.endsWith("new id …-" + newNode);
		assertThat(this.browser.getCurrentUrl()).doesNotContain("/login");
		assertThat(text("user")).isEqualTo("demo");
		assertThat(text("counter")).isEqualTo("3");

		// The session carries on from its new node.
		this.browser.findElement(By.id("increment")).click();
		this.wait.until(ExpectedConditions.textToBe(By.id("counter"), "4"));
		assertThat(text("session-id")).isEqualTo(base + "-" + newNode);
		screenshot("e2e-node-failover.png");
		assertThat(memcached.node(newNode).get(base + "-" + newNode)).isNotNull();

		this.browser.findElement(By.cssSelector("#logout button")).click();
		this.wait.until(ExpectedConditions.urlContains("/login?logout"));
	}

	/** Logs in as demo through the login form and presses +1 {@code count} times. */
	private void logInAndCountTo(int count) {
		this.browser.get(this.nginx.url() + "/");
		this.wait.until(ExpectedConditions.visibilityOfElementLocated(By.name("username"))).sendKeys("demo");
		this.browser.findElement(By.name("password")).sendKeys("demo");
		this.browser.findElement(By.cssSelector("button[type=submit]")).click();
		this.wait.until(ExpectedConditions.textToBe(By.id("user"), "demo"));
		this.wait.until(ExpectedConditions.textToBe(By.id("counter"), "0"));

		for (int expected = 1; expected <= count; expected++) {
			this.browser.findElement(By.id("increment")).click();
			this.wait.until(ExpectedConditions.textToBe(By.id("counter"), String.valueOf(expected)));
		}
	}

	private String text(String id) {
		return this.browser.findElement(By.id(id)).getText();
	}

	private static WebDriver startBrowser(Path profile) {
		ChromeOptions options = new ChromeOptions();
		options.setBinary(CHROMIUM.toFile());
		options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
				"--disable-background-networking", "--disable-quic", "--no-first-run", "--disable-component-update",
				"--disable-sync", "--no-proxy-server", "--window-size=1100,900", "--user-data-dir=" + profile);
		ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
			.usingAnyFreePort()
			.withLogFile(new File("target/chromedriver.log"))
			.build();
		return new ChromeDriver(service, options);
	}

	/**
	 * The program an environment variable names, else the first on the {@code PATH}, else
	 * {@code /usr/bin/<name>}. Naming both programs keeps Selenium Manager from looking
	 * for (and downloading) a browser or driver.
	 */
	private static Path executable(String variable, String name) {
		String configured = System.getenv(variable);
		if (configured != null && !configured.isBlank()) {
			return Path.of(configured);
		}
		for (String directory : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
			Path candidate = Path.of(directory, name);
			if (!directory.isEmpty() && Files.isExecutable(candidate)) {
				return candidate;
			}
		}
		return Path.of("/usr/bin", name);
	}

	private void screenshot(String name) throws IOException {
		File shot = ((ChromeDriver) this.browser).getScreenshotAs(OutputType.FILE);
		Files.createDirectories(EVIDENCE);
		Files.copy(shot.toPath(), EVIDENCE.resolve(name), StandardCopyOption.REPLACE_EXISTING);
	}

}
