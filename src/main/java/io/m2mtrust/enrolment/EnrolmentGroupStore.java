package io.m2mtrust.enrolment;

import io.m2mtrust.keys.KeyState;
import io.m2mtrust.keys.RetiredHsmKeys;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The queries over enrolment groups, their devices, ranges and group keys (rows are read by key in
 * {@link EnrolmentGroupService}). Callers run inside a transaction.
 */
@ApplicationScoped
class EnrolmentGroupStore implements RetiredHsmKeys {

    private final EntityManager em;

    EnrolmentGroupStore(EntityManager em) {
        this.em = em;
    }

    List<EnrolmentGroup> groups(String tenantId) {
        return EnrolmentGroup.list("tenantId = ?1 order by id", tenantId);
    }

    List<GroupKey> keys(String tenantId, String groupId) {
        return GroupKey.list("tenantId = ?1 and groupId = ?2 order by epoch", tenantId, groupId);
    }

    /** Adds the device as ALLOWED unless a row for it exists (whatever its status); whether it was new. */
    boolean addDevice(String tenantId, String groupId, String deviceId, Instant now) {
        return em.createNativeQuery("insert into enrolment_device "
                                + "(tenant_id, group_id, device_id, status, created_at, updated_at) "
                                + "values (?1, ?2, ?3, 'ALLOWED', ?4, ?4) on conflict do nothing")
                        .setParameter(1, tenantId)
                        .setParameter(2, groupId)
                        .setParameter(3, deviceId)
                        .setParameter(4, now)
                        .executeUpdate()
                > 0;
    }

    /** The group's ranges whose prefix is a prefix of {@code deviceId} (the caller checks the numeric bounds). */
    List<EnrolmentRange> rangesWithPrefixOf(String tenantId, String groupId, String deviceId) {
        return EnrolmentRange.list(
                "tenantId = ?1 and groupId = ?2 and length(prefix) <= ?3 and substring(?4, 1, length(prefix)) = prefix",
                tenantId,
                groupId,
                deviceId.length(),
                deviceId);
    }

    /**
     * Up to {@code max} device rows in device-id order after {@code afterOrNull} (keyset paging on the primary key:
     * any page costs one index range scan, never an offset), optionally with a device-id prefix and a status.
     */
    List<EnrolmentDevice> devices(
            String tenantId,
            String groupId,
            String prefixOrNull,
            EnrolmentDevice.Status statusOrNull,
            String afterOrNull,
            int max) {
        boolean after = afterOrNull != null && !afterOrNull.isEmpty();
        boolean prefix = prefixOrNull != null && !prefixOrNull.isEmpty();
        StringBuilder q = new StringBuilder("from EnrolmentDevice where tenantId = :t and groupId = :g");
        if (after) {
            q.append(" and deviceId > :after");
        }
        if (prefix) {
            q.append(" and deviceId like :prefix escape '!'");
        }
        if (statusOrNull != null) {
            q.append(" and status = :status");
        }
        var query = em.createQuery(q.append(" order by deviceId").toString(), EnrolmentDevice.class)
                .setParameter("t", tenantId)
                .setParameter("g", groupId)
                .setMaxResults(max);
        if (after) {
            query.setParameter("after", afterOrNull);
        }
        if (prefix) {
            // device ids may contain '_', a LIKE wildcard: escaped
            query.setParameter(
                    "prefix", prefixOrNull.replace("!", "!!").replace("_", "!_").replace("%", "!%") + "%");
        }
        if (statusOrNull != null) {
            query.setParameter("status", statusOrNull);
        }
        return query.getResultList();
    }

    /** Group key epochs retired or destroyed with their group. */
    @Override
    public Set<String> retiredLabels() {
        List<GroupKey> retired = GroupKey.list("state in ?1", List.of(KeyState.RETIRED, KeyState.DESTROYED));
        return retired.stream().map(k -> k.hsmLabel).collect(Collectors.toUnmodifiableSet());
    }
}
