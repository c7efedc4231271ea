package io.github.msm.session.serializer.testapp;

/**
 * A class loader in an allowed package, which must be refused anyway.
 */
public class SneakyClassLoader extends ClassLoader {

}
