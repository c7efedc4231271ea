package io.github.msm.session.serializer;

import java.util.List;

import io.github.msm.session.serializer.testapp.Customer;
import io.github.msm.session.serializer.testapp.SneakyClassLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Tests for {@link ClassAllowList}.
 */
class ClassAllowListTests {

	private final ClassAllowList allowList = ClassAllowList.of(List.of("com.example", "org.springframework.security"));

	@ParameterizedTest
	@ValueSource(strings = { "java.lang.String", "java.lang.Integer", "java.util.ArrayList", "java.util.HashMap$Node",
			"java.util.Collections$UnmodifiableRandomAccessList", "java.util.concurrent.ConcurrentHashMap",
			"java.util.concurrent.atomic.AtomicLong", "java.time.Instant", "java.time.zone.ZoneRules",
			"java.math.BigDecimal", "java.net.URI", "java.util.concurrent.locks.ReentrantLock$NonfairSync", "int",
			"[I", "[[J", "[Ljava.lang.String;", "[[Lcom.example.Foo;" })
	void isAllowed_BuiltInClass_ShouldBeTrue(String className) {
		assertThat(this.allowList.isAllowed(className)).isTrue();
	}

	@ParameterizedTest
	@ValueSource(strings = { "com.example.Foo", "com.example.shop.Cart", "com.example.shop.Cart$Line",
			"org.springframework.security.core.userdetails.User" })
	void isAllowed_ClassInConfiguredPackageOrSubPackage_ShouldBeTrue(String className) {
		assertThat(this.allowList.isAllowed(className)).isTrue();
	}

	@ParameterizedTest
	@ValueSource(strings = { "com.examples.Foo", "com.Foo", "Foo", "org.springframework.core.io.FileSystemResource",
			"java.lang.reflect.Method", "java.lang.invoke.SerializedLambda", "java.util.logging.Level",
			"java.util.function.Function", "java.net.URL", "java.io.File", "javax.naming.InitialContext",
			"jdk.proxy1.$Proxy12", "sun.misc.Unsafe", "[Lcom.evil.Foo;" })
	void isAllowed_ClassOutsideAllowList_ShouldBeFalse(String className) {
		assertThat(this.allowList.isAllowed(className)).isFalse();
	}

	@ParameterizedTest
	@ValueSource(strings = { "java.lang.Runtime", "java.lang.ProcessBuilder", "java.lang.ProcessBuilder$Redirect",
			"java.lang.ProcessImpl", "java.lang.Thread", "java.lang.ClassLoader", "java.lang.System",
			"java.util.ServiceLoader", "java.util.Timer", "java.util.concurrent.ThreadPoolExecutor",
			"[Ljava.lang.Thread;" })
	void isAllowed_DeniedClassInBuiltInPackage_ShouldBeFalse(String className) {
		assertThat(this.allowList.isAllowed(className)).isFalse();
	}

	@ParameterizedTest
	@ValueSource(strings = { "", "[", "[X", "[L;", "[Lcom.example.Foo" })
	void isAllowed_MalformedName_ShouldBeFalse(String className) {
		assertThat(this.allowList.isAllowed(className)).isFalse();
	}

	@Test
	void isAllowed_NullName_ShouldBeFalse() {
		assertThat(this.allowList.isAllowed((String) null)).isFalse();
	}

	@Test
	void isAllowed_ClassLoaderSubclassInAllowedPackage_ShouldBeFalse() {
		ClassAllowList testApp = ClassAllowList.of(List.of(SerializerTestSupport.TESTAPP_PACKAGE));

		assertThat(testApp.isAllowed(SneakyClassLoader.class)).isFalse();
	}

	@Test
	void isAllowed_ApplicationClassInAllowedPackage_ShouldBeTrue() {
		ClassAllowList testApp = ClassAllowList.of(List.of(SerializerTestSupport.TESTAPP_PACKAGE));

		assertThat(testApp.isAllowed(Customer[].class)).isTrue();
	}

	@Test
	void isAllowed_PrimitiveArrayClass_ShouldBeTrue() {
		assertThat(this.allowList.isAllowed(int[][].class)).isTrue();
	}

	@Test
	void of_PackageWithWildcard_ShouldThrow() {
		assertThatIllegalArgumentException().isThrownBy(() -> ClassAllowList.of(List.of("com.example.*")))
			.withMessageContaining("com.example.*");
	}

	@Test
	void of_EmptyPackageName_ShouldThrow() {
		assertThatIllegalArgumentException().isThrownBy(() -> ClassAllowList.of(List.of(" ")));
	}

	@Test
	void getPackages_DuplicatesAndWhitespace_ShouldBeNormalized() {
		ClassAllowList list = ClassAllowList.of(List.of(" com.example ", "com.example", "org.acme"));

		assertThat(list.getPackages()).containsExactly("com.example", "org.acme");
	}

	@Test
	void defaultPackages_ShouldContainSpringSecurity() {
		assertThat(ClassAllowList.DEFAULT_PACKAGES).containsExactly("org.springframework.security");
	}

}
