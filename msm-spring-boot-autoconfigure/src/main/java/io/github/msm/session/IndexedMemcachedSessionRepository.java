package io.github.msm.session;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import io.github.msm.session.index.PrincipalIndex;
import io.github.msm.session.node.NodeRing;
import io.github.msm.session.node.NodeSelector;
import io.github.msm.session.serializer.SessionSerializer;
import io.github.msm.session.storage.MemcachedStore;
import org.jspecify.annotations.Nullable;

import org.springframework.session.FindByIndexNameSessionRepository;
import org.springframework.session.PrincipalNameIndexResolver;

/**
 * A {@link MemcachedSessionRepository} that also finds sessions by principal name, for
 * Spring Security's concurrent session control ({@code SpringSessionBackedSessionRegistry})
 * and the actuator's {@code sessions?username=} endpoint.
 *
 * <p>
 * The principal is resolved as Spring Session's own stores do: the
 * {@link #PRINCIPAL_NAME_INDEX_NAME} attribute, else the name of the authentication in
 * Spring Security's {@code SPRING_SECURITY_CONTEXT}. It is resolved, and the
 * {@link PrincipalIndex} updated, only by a save that set or removed one of those two
 * attributes or changed the session id: a login costs one index update, every other
 * request nothing. Logout removes the session from the index; sessions that expired,
 * were deleted elsewhere or now belong to another principal are pruned when a lookup
 * finds them so, and sessions that moved to another node are listed under their new id.
 * Each lookup reads every listed session (one round trip each).
 *
 * <p>
 * A separate class, so that an application without the index keeps a repository that is
 * not a {@link FindByIndexNameSessionRepository}, and pays nothing for it.
 *
 * @author msm-spring-boot
 * @since 0.1.0
 */
public class IndexedMemcachedSessionRepository extends MemcachedSessionRepository
		implements FindByIndexNameSessionRepository<MemcachedSession> {

	private static final String SPRING_SECURITY_CONTEXT = "SPRING_SECURITY_CONTEXT";

	private static final PrincipalNameIndexResolver<MemcachedSession> principalResolver = new PrincipalNameIndexResolver<>();

	private final MemcachedStore store;

	private final NodeSelector nodes;

	private String keyPrefix = "";

	private SessionMetrics metrics = SessionMetrics.none();

	private volatile @Nullable PrincipalIndex index;

	/**
	 * Create a repository.
	 * @param store the memcached access, connected to every node of the ring
	 * @param ring the nodes
	 * @param serializer serializes attribute values
	 */
	public IndexedMemcachedSessionRepository(MemcachedStore store, NodeRing ring, SessionSerializer serializer) {
		super(store, ring, serializer);
		this.store = store;
		this.nodes = new NodeSelector(ring, store.availability());
	}

	@Override
	public void setKeyPrefix(String keyPrefix) {
		super.setKeyPrefix(keyPrefix);
		this.keyPrefix = keyPrefix;
		this.index = null;
	}

	@Override
	public void setMetrics(SessionMetrics metrics) {
		super.setMetrics(metrics);
		this.metrics = metrics;
		this.index = null;
	}

	/** Saves, then lists the session under its principal when it logged in or changed its id. */
	@Override
	public void save(MemcachedSession session) {
		String storedId = session.storedId();
		boolean principalMayChange = (storedId != null && !storedId.equals(session.getId()))
				|| session.isChangedAttribute(PRINCIPAL_NAME_INDEX_NAME)
				|| session.isChangedAttribute(SPRING_SECURITY_CONTEXT);
		String principal = principalMayChange ? principalOf(session) : null;
		super.save(session);
		if (principal != null && session.getId().equals(session.storedId())) {
			String replaced = (storedId != null && !storedId.equals(session.getId())) ? storedId : null;
			index().add(principal, session.getId(), replaced);
		}
	}

	/** Deletes, and removes the session from its principal's list when this request read it. */
	@Override
	public void deleteById(String id) {
		Optional<MemcachedSession> known = RequestSessionMemo.lookup(id);
		MemcachedSession session = (known != null) ? known.orElse(null) : null;
		String principal = (session != null) ? principalOf(session) : null;
		super.deleteById(id);
		if (principal != null) {
			Set<String> ids = new LinkedHashSet<>(List.of(id));
			if (session.storedId() != null) {
				ids.add(session.storedId());
			}
			index().prune(principal, ids, Map.of());
		}
	}

	/**
	 * Finds the sessions of a principal. Only {@link #PRINCIPAL_NAME_INDEX_NAME} is
	 * indexed; any other index name finds nothing.
	 */
	@Override
	public Map<String, MemcachedSession> findByIndexNameAndIndexValue(String indexName, String indexValue) {
		if (!PRINCIPAL_NAME_INDEX_NAME.equals(indexName)) {
			return Map.of();
		}
		PrincipalIndex index = index();
		Map<String, MemcachedSession> sessions = new LinkedHashMap<>();
		List<String> gone = new ArrayList<>();
		Map<String, String> moved = new HashMap<>();
		for (String id : index.sessionIds(indexValue)) {
			MemcachedSession session = findById(id);
			if (session == null || session.isExpired() || !indexValue.equals(principalOf(session))) {
				gone.add(id);
				continue;
			}
			if (!session.getId().equals(id)) {
				moved.put(id, session.getId());
			}
			sessions.put(session.getId(), session);
		}
		index.prune(indexValue, gone, moved);
		return sessions;
	}

	private static @Nullable String principalOf(MemcachedSession session) {
		return principalResolver.resolveIndexValueFor(session);
	}

	private PrincipalIndex index() {
		PrincipalIndex index = this.index;
		if (index == null) {
			index = new PrincipalIndex(this.store, this.nodes, this.keyPrefix,
					this.store.operationTimeout().multipliedBy(3), this.metrics::indexWriteFailed);
			this.index = index;
		}
		return index;
	}

}
