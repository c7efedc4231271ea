package io.github.msm.sample;

import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

/**
 * The JSON answer of every {@code /api} call: the current session as the page and outside
 * tools see it.
 *
 * @param sessionId the session id, as in the {@code SESSION} cookie
 * @param node the memcached node the session lives on, {@code null} when ids carry no node
 * @param nodesDown the memcached nodes the answering server takes for down; a session on
 * one of them moves to another node (same id base, new node suffix) at its next request
 * @param instance the name of the server that answered
 * @param counter the session's counter
 * @param attributes the session's text and number attributes, by name
 * @param user the logged-in user, {@code null} when anonymous
 * @author msm-spring-boot
 */
public record SessionView(String sessionId, @Nullable String node, List<String> nodesDown, String instance,
		int counter, Map<String, String> attributes, @Nullable String user) {

}
