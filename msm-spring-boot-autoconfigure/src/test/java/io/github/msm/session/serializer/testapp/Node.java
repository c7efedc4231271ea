package io.github.msm.session.serializer.testapp;

import java.io.Serializable;

/**
 * A mutable node for cyclic graphs.
 */
public class Node implements Serializable {

	private final String name;

	private Node next;

	public Node(String name) {
		this.name = name;
	}

	public String getName() {
		return this.name;
	}

	public Node getNext() {
		return this.next;
	}

	public void setNext(Node next) {
		this.next = next;
	}

}
