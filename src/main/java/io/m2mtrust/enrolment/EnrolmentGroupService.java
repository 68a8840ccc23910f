package io.m2mtrust.enrolment;

import io.m2mtrust.audit.AuditLog;
import io.m2mtrust.audit.Audited;
import io.m2mtrust.cluster.ReplicaCache;
import io.m2mtrust.cluster.ReplicaCaches;
import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.common.CertificateSubject;
import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.common.SubjectType;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.Pkcs11Token;
import io.m2mtrust.keys.KeyState;
import io.m2mtrust.policy.PolicyService;
import io.m2mtrust.security.IdentityRevoked;
import io.m2mtrust.security.RevocationEffects;
import io.m2mtrust.security.Revocations;
import io.m2mtrust.tenant.DeviceFqdns;
import io.m2mtrust.tenant.TenantStore;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;

/**
 * Enrolment groups: the group key lives in the HSM (one object per live epoch), devices are rows or
 * ranges, and a device's Kpm is derived on demand. Rotation starts a new epoch; KpmIDs of older
 * epochs keep enrolling until that epoch is retired.
 */
@ApplicationScoped
public class EnrolmentGroupService {

    private final EntityManager em;
    private final Pkcs11Token token;
    private final AuditLog audit;
    private final KpmDerivation kpm;
    private final DeviceFqdns fqdns;
    private final PolicyService policies;
    private final TenantStore tenantRows;
    private final EnrolmentGroupStore store;
    private final ReplicaCaches caches;
    private final ReplicaCache<Boolean> liveEpochs;
    private final Revocations revocations;

    EnrolmentGroupService(
            EntityManager em,
            Pkcs11Token token,
            AuditLog audit,
            KpmDerivation kpm,
            DeviceFqdns fqdns,
            PolicyService policies,
            TenantStore tenantRows,
            EnrolmentGroupStore store,
            ReplicaCaches caches,
            Revocations revocations) {
        this.revocations = revocations;
        this.caches = caches;
        this.liveEpochs = caches.cache(TOPIC, java.time.Duration.ofSeconds(60), 100_000);
        this.store = store;
        this.tenantRows = tenantRows;
        this.em = em;
        this.token = token;
        this.audit = audit;
        this.kpm = kpm;
        this.fqdns = fqdns;
        this.policies = policies;
    }

    public EnrolmentGroup create(String tenantId, String groupId, String name, String actor) {
        return QuarkusTransaction.requiringNew().call(() -> {
            lockTenant(tenantId);
            if (em.find(EnrolmentGroup.class, new EnrolmentGroup.Key(tenantId, groupId)) != null) {
                throw ApiProblem.conflict(
                        "enrolment group " + groupId + " exists or existed; group ids are never reused");
            }
            HsmKeyLabel label = GroupKey.label(tenantId, groupId, 1);
            token.generateReplacingOrphan(label, null); // no group row exists: an object with this label is an orphan
            try {
                Instant now = now();
                EnrolmentGroup g = new EnrolmentGroup();
                g.tenantId = tenantId;
                g.id = groupId;
                g.name = name;
                g.epoch = 1;
                g.status = EnrolmentGroup.Status.ACTIVE;
                g.createdAt = now;
                g.updatedAt = now;
                em.persist(g);
                em.persist(groupKey(tenantId, groupId, 1, label, now));
                em.flush();
                audit.append(
                        tenantId,
                        actor,
                        "group.create",
                        "group/" + groupId,
                        AuditLog.Outcome.SUCCESS,
                        "group key " + label + " generated in the HSM");
                return g;
            } catch (RuntimeException e) {
                destroyQuietly(label);
                throw e;
            }
        });
    }

    public EnrolmentGroup get(String tenantId, String groupId) {
        EnrolmentGroup g = em.find(EnrolmentGroup.class, new EnrolmentGroup.Key(tenantId, groupId));
        if (g == null) {
            throw ApiProblem.notFound("enrolment group " + groupId);
        }
        if (g.status == EnrolmentGroup.Status.DELETED) {
            throw ApiProblem.gone("enrolment group " + groupId + " was deleted and its keys destroyed");
        }
        return g;
    }

    public List<EnrolmentGroup> list(String tenantId) {
        return store.groups(tenantId);
    }

    public List<GroupKey> keys(String tenantId, String groupId) {
        return store.keys(tenantId, groupId);
    }

    /** Adds explicit devices; ids already present are left as they are. Returns how many were new. */
    public int addDevices(String tenantId, String groupId, List<String> deviceIds, String actor) {
        return audit.change(tenantId, actor, "group.devices.add", "group/" + groupId, () -> {
            get(tenantId, groupId);
            int added = 0;
            Instant now = now();
            for (String d : deviceIds) {
                added += store.addDevice(tenantId, groupId, d, now) ? 1 : 0;
            }
            return Audited.of(added, added + " of " + deviceIds.size() + " devices added");
        });
    }

    public EnrolmentRange addRange(
            String tenantId, String groupId, String prefix, int width, long first, long last, String actor) {
        return audit.change(tenantId, actor, "group.range.add", "group/" + groupId, () -> {
            get(tenantId, groupId);
            if (Long.toString(last).length() > width) {
                throw ApiProblem.badRequest("validation", "last does not fit in " + width + " digits");
            }
            if (em.find(EnrolmentRange.class, new EnrolmentRange.Key(tenantId, groupId, prefix, first)) != null) {
                // the same range twice was a unique-key violation, a 500 (found by schemathesis; issue 23 item 1)
                throw ApiProblem.conflict("the group already has a range " + prefix + " starting at " + first);
            }
            EnrolmentRange r = new EnrolmentRange();
            r.tenantId = tenantId;
            r.groupId = groupId;
            r.prefix = prefix;
            r.width = width;
            r.firstNo = first;
            r.lastNo = last;
            r.createdAt = now();
            em.persist(r);
            em.flush();
            return Audited.of(r, prefix + "[" + first + ".." + last + "] (" + (last - first + 1) + " devices)");
        });
    }

    /**
     * Sets (or with a null type, removes) the certificate identity the group's devices may request over
     * EST: {@code template} with {@code {device}} replaced by the device id must be a valid identity of
     * {@code type}. Checked here with a sample id, and again for each real device at issue time.
     */
    public EnrolmentGroup setCertificateProfile(
            String tenantId, String groupId, SubjectType type, String template, String actor) {
        return audit.auditRefusals(tenantId, actor, "group.certificate-profile", "group/" + groupId, () -> {
            if (type != null) {
                if (template == null
                        || template.indexOf("{device}") < 0
                        || template.indexOf("{device}") != template.lastIndexOf("{device}")) {
                    throw ApiProblem.invalid(
                            List.of(ApiProblem.fieldError("subjectTemplate", "must contain {device} exactly once")));
                }
                String problem = type.problemWith(template.replace("{device}", "device-1"));
                if (problem != null) {
                    throw ApiProblem.invalid(List.of(ApiProblem.fieldError("subjectTemplate", problem)));
                }
            }
            return QuarkusTransaction.requiringNew().call(() -> {
                EnrolmentGroup g = get(tenantId, groupId);
                em.lock(g, LockModeType.PESSIMISTIC_WRITE);
                g.certSubjectType = type;
                g.certSubjectTemplate = type == null ? null : template;
                g.updatedAt = now();
                em.flush();
                audit.append(
                        tenantId,
                        actor,
                        "group.certificate-profile",
                        "group/" + groupId,
                        AuditLog.Outcome.SUCCESS,
                        type == null ? "removed: devices get no certificates" : type + " " + template);
                return g;
            });
        });
    }

    /** The certificate identity of a device of the group, or empty when the group has no profile. */
    public Optional<CertificateSubject> certificateSubject(String tenantId, String groupId, String deviceId) {
        EnrolmentGroup g = em.find(EnrolmentGroup.class, new EnrolmentGroup.Key(tenantId, groupId));
        if (g == null || g.status != EnrolmentGroup.Status.ACTIVE || g.certSubjectType == null) {
            return Optional.empty();
        }
        return Optional.of(
                new CertificateSubject(g.certSubjectType, g.certSubjectTemplate.replace("{device}", deviceId)));
    }

    /** Whether the device belongs to the group (row or range) and is not denied. */
    public boolean mayEnrol(String tenantId, String groupId, String deviceId) {
        EnrolmentDevice d = em.find(EnrolmentDevice.class, new EnrolmentDevice.Key(tenantId, groupId, deviceId));
        if (d != null) {
            return d.status == EnrolmentDevice.Status.ALLOWED;
        }
        return inRange(tenantId, groupId, deviceId);
    }

    /**
     * The device's status in the group ({@code ALLOWED} while it has no row of its own but a range names it); 404 for
     * an unknown group or a device that is not a member.
     */
    public String requireDeviceStatus(String tenantId, String groupId, String deviceId) {
        get(tenantId, groupId);
        EnrolmentDevice d = em.find(EnrolmentDevice.class, new EnrolmentDevice.Key(tenantId, groupId, deviceId));
        if (d == null && !inRange(tenantId, groupId, deviceId)) {
            throw ApiProblem.notFound("device " + deviceId);
        }
        return d == null ? EnrolmentDevice.Status.ALLOWED.name() : d.status.name();
    }

    /** The device's KpmID in every epoch of the group's key, oldest first: the identities it enrols with. */
    public List<String> kpmIds(String tenantId, String groupId, String deviceId) {
        return keys(tenantId, groupId).stream()
                .map(k -> new KpmId(deviceId, k.epoch, groupId, fqdns.mef(tenantId)).value())
                .toList();
    }

    /**
     * Denies the device and ends every credential derived from its enrolments, in one transaction (issue 22): it can no
     * longer enrol, its live enrolments are revoked (its KeIDs open no MAF session and fetch no credential), and its
     * MAF client registrations with their Km and keys are deleted (its KmIDs and the SAEF keys it registered open no
     * session), on every replica before the answer (ADR 0023). What went is in the audit event. Allowing the device
     * again lets it enrol anew; nothing revoked comes back.
     */
    public RevocationEffects deny(String tenantId, String groupId, String deviceId, String actor) {
        return audit.change(tenantId, actor, "device.deny", "group/" + groupId + "/device/" + deviceId, () -> {
            get(tenantId, groupId);
            EnrolmentDevice d = lockedDevice(tenantId, groupId, deviceId);
            d.status = EnrolmentDevice.Status.DENIED;
            d.updatedAt = now();
            em.flush();
            RevocationEffects e = revocations.publish(
                    new IdentityRevoked(tenantId, kpmIds(tenantId, groupId, deviceId), "device.deny"));
            return Audited.of(
                    e,
                    e.count(RevocationEffects.ENROLMENTS) + " enrolments revoked, "
                            + e.count(RevocationEffects.REGISTRATIONS)
                            + " client registrations (with Km and keys) deleted, "
                            + e.count(RevocationEffects.ESCERTKE_KEYS) + " ESCertKE keys revoked");
        });
    }

    /** Whether the device belongs to the group at all (a row, whatever its status, or a range). */
    public boolean isMember(String tenantId, String groupId, String deviceId) {
        return em.find(EnrolmentDevice.class, new EnrolmentDevice.Key(tenantId, groupId, deviceId)) != null
                || inRange(tenantId, groupId, deviceId);
    }

    private boolean inRange(String tenantId, String groupId, String deviceId) {
        return store.rangesWithPrefixOf(tenantId, groupId, deviceId).stream().anyMatch(r -> r.contains(deviceId));
    }

    /** One page of a group's devices (rows with state: listed, denied, exported), and where the next page starts. */
    public record DevicePage(List<EnrolmentDevice> devices, String next) {}

    /**
     * Devices of a group in device-id order, after {@code after} (keyset paging on the primary key: any page of
     * a million rows costs one index range scan, never an offset or a count), optionally starting with
     * {@code prefix} and with {@code status}.
     */
    public DevicePage devices(
            String tenantId, String groupId, String prefix, EnrolmentDevice.Status status, String after, int limit) {
        return QuarkusTransaction.requiringNew().call(() -> {
            get(tenantId, groupId);
            List<EnrolmentDevice> rows = store.devices(tenantId, groupId, prefix, status, after, limit + 1);
            String next = rows.size() > limit ? rows.get(limit - 1).deviceId : null;
            return new DevicePage(rows.size() > limit ? List.copyOf(rows.subList(0, limit)) : rows, next);
        });
    }

    /** Denies ({@link #deny}) or re-allows one device (also one from a range: its state row is created). */
    public EnrolmentDevice setStatus(
            String tenantId, String groupId, String deviceId, EnrolmentDevice.Status status, String actor) {
        if (status == EnrolmentDevice.Status.DENIED) {
            deny(tenantId, groupId, deviceId, actor);
            return QuarkusTransaction.requiringNew()
                    .call(() -> em.find(EnrolmentDevice.class, new EnrolmentDevice.Key(tenantId, groupId, deviceId)));
        }
        return audit.change(tenantId, actor, "device.allow", "group/" + groupId + "/device/" + deviceId, () -> {
            get(tenantId, groupId);
            EnrolmentDevice d = lockedDevice(tenantId, groupId, deviceId);
            d.status = status;
            d.updatedAt = now();
            em.flush();
            return Audited.of(d, null);
        });
    }

    /** The device's row locked for this transaction; a range member gets its row now; 404 for a non-member. */
    private EnrolmentDevice lockedDevice(String tenantId, String groupId, String deviceId) {
        EnrolmentDevice d = em.find(
                EnrolmentDevice.class,
                new EnrolmentDevice.Key(tenantId, groupId, deviceId),
                LockModeType.PESSIMISTIC_WRITE);
        if (d != null) {
            return d;
        }
        if (!inRange(tenantId, groupId, deviceId)) {
            throw ApiProblem.notFound("device " + deviceId);
        }
        return newDevice(tenantId, groupId, deviceId);
    }

    /** The Kpm of a device for factory provisioning: once per device, if the tenant's policy allows keys in host memory. */
    public record KpmExport(String kpmId, SecretBytes kpm) {}

    public KpmExport exportKpm(String tenantId, String groupId, String deviceId, String actor) {
        return audit.change(tenantId, actor, "device.kpm.export", "group/" + groupId + "/device/" + deviceId, () -> {
            if (!policies.get(tenantId).allowHostMemoryKeys) {
                throw ApiProblem.forbidden(
                        "the tenant's policy does not allow key material to leave the HSM (allowHostMemoryKeys)");
            }
            EnrolmentGroup g = get(tenantId, groupId);
            EnrolmentDevice d = lockedDevice(tenantId, groupId, deviceId);
            if (d.status == EnrolmentDevice.Status.DENIED) {
                throw ApiProblem.conflict("device " + deviceId + " is denied");
            }
            if (d.kpmExportedEpoch != null && d.kpmExportedEpoch == g.epoch) {
                throw ApiProblem.conflict("the Kpm of device " + deviceId + " for epoch " + g.epoch
                        + " was already exported at " + d.kpmExportedAt + "; rotate the group key to issue a new one");
            }
            d.kpmExportedAt = now();
            d.kpmExportedEpoch = g.epoch;
            d.updatedAt = d.kpmExportedAt;
            KpmId id = new KpmId(deviceId, g.epoch, groupId, fqdns.mef(tenantId));
            SecretBytes key = kpm.derive(tenantId, id);
            em.flush();
            return Audited.of(
                    new KpmExport(id.value(), key), "Kpm of " + id + " exported once for factory provisioning");
        });
    }

    /** A new epoch becomes primary; older epochs keep enrolling until retired. */
    public GroupKey rotate(String tenantId, String groupId, String actor) {
        return audit.change(tenantId, actor, "group.rotate", "group/" + groupId, () -> {
            lockTenant(tenantId);
            EnrolmentGroup g = get(tenantId, groupId);
            em.lock(g, LockModeType.PESSIMISTIC_WRITE);
            int next = g.epoch + 1;
            HsmKeyLabel label = GroupKey.label(tenantId, groupId, next);
            token.generateReplacingOrphan(label, null); // the group row lock makes epoch n+1 ours
            try {
                Instant now = now();
                GroupKey old = em.find(GroupKey.class, groupKeyId(tenantId, groupId, g.epoch));
                if (old != null && old.state == KeyState.PRIMARY) {
                    old.state = KeyState.ACTIVE;
                }
                GroupKey k = groupKey(tenantId, groupId, next, label, now);
                em.persist(k);
                g.epoch = next;
                g.updatedAt = now;
                em.flush();
                return Audited.at(label.value(), k, "epoch " + next + " is primary; KpmIDs now end in ~" + next);
            } catch (RuntimeException e) {
                destroyQuietly(label);
                throw e;
            }
        });
    }

    /** Retires an older epoch: its KpmIDs stop enrolling and the HSM object is destroyed after commit. */
    public GroupKey retireEpoch(String tenantId, String groupId, int epoch, String actor) {
        GroupKey k = audit.change(tenantId, actor, "group.epoch.retire", "group/" + groupId + "/v" + epoch, () -> {
            get(tenantId, groupId);
            GroupKey row =
                    em.find(GroupKey.class, groupKeyId(tenantId, groupId, epoch), LockModeType.PESSIMISTIC_WRITE);
            if (row == null) {
                throw ApiProblem.notFound("epoch " + epoch);
            }
            if (row.state == KeyState.PRIMARY) {
                throw ApiProblem.conflict("the primary epoch cannot be retired; rotate first");
            }
            if (row.state != KeyState.ACTIVE) {
                throw ApiProblem.conflict(
                        "epoch " + epoch + " is already " + row.state.name().toLowerCase());
            }
            epochsChanging(tenantId);
            row.state = KeyState.RETIRED;
            row.retiredAt = now();
            return Audited.at(row.hsmLabel, row, "HSM object destroyed");
        });
        destroyQuietly(GroupKey.label(tenantId, groupId, epoch));
        return k;
    }

    /** Deletes the group: its keys are destroyed, its devices can no longer enrol. */
    public void delete(String tenantId, String groupId, String actor) {
        QuarkusTransaction.requiringNew().run(() -> {
            EnrolmentGroup g = get(tenantId, groupId);
            em.lock(g, LockModeType.PESSIMISTIC_WRITE);
            epochsChanging(tenantId);
            g.status = EnrolmentGroup.Status.DELETED;
            g.updatedAt = now();
            for (GroupKey k : keys(tenantId, groupId)) {
                if (k.state != KeyState.RETIRED && k.state != KeyState.DESTROYED) {
                    k.retiredAt = g.updatedAt;
                }
                k.state = KeyState.DESTROYED;
            }
            audit.append(
                    tenantId,
                    actor,
                    "group.delete",
                    "group/" + groupId,
                    AuditLog.Outcome.SUCCESS,
                    "group keys destroyed");
        });
        for (GroupKey k : QuarkusTransaction.requiringNew().call(() -> keys(tenantId, groupId))) {
            destroyQuietly(GroupKey.label(tenantId, groupId, k.epoch));
        }
    }

    /** The epoch's key state, if the group is live and the epoch exists. */
    /**
     * Whether a KpmID's group is ACTIVE and its epoch still enrols, for the PSK handshake: positive answers are cached
     * (no query per handshake), and retiring an epoch or deleting the group on any replica drops the tenant's entries
     * on every replica (ADR 0023). The device's own status is not cached: a deny reaches the next handshake through
     * its row.
     */
    public boolean enrolsWith(String tenantId, String groupId, int epoch) {
        return liveEpochs.get(
                tenantId + "|" + groupId + "|" + epoch,
                b -> true,
                () -> liveKey(tenantId, groupId, epoch).isPresent(),
                live -> live);
    }

    /** The cluster topic of enrolment-group epochs. */
    static final String TOPIC = "enrolment-epochs";

    /** A group's epochs changed (retired, or the group deleted): every replica forgets the tenant's live epochs. */
    private void epochsChanging(String tenantId) {
        caches.changed(TOPIC, tenantId);
    }

    public Optional<GroupKey> liveKey(String tenantId, String groupId, int epoch) {
        EnrolmentGroup g = em.find(EnrolmentGroup.class, new EnrolmentGroup.Key(tenantId, groupId));
        if (g == null || g.status != EnrolmentGroup.Status.ACTIVE) {
            return Optional.empty();
        }
        return Optional.ofNullable(em.find(GroupKey.class, groupKeyId(tenantId, groupId, epoch)))
                .filter(GroupKey::enrols);
    }

    private EnrolmentDevice newDevice(String tenantId, String groupId, String deviceId) {
        EnrolmentDevice d = new EnrolmentDevice();
        d.tenantId = tenantId;
        d.groupId = groupId;
        d.deviceId = deviceId;
        d.status = EnrolmentDevice.Status.ALLOWED;
        d.createdAt = now();
        d.updatedAt = d.createdAt;
        em.persist(d);
        return d;
    }

    private static GroupKey groupKey(String tenantId, String groupId, int epoch, HsmKeyLabel label, Instant now) {
        GroupKey k = new GroupKey();
        k.tenantId = tenantId;
        k.groupId = groupId;
        k.epoch = epoch;
        k.state = KeyState.PRIMARY;
        k.hsmLabel = label.value();
        k.createdAt = now;
        return k;
    }

    private static GroupKey.Key groupKeyId(String tenantId, String groupId, int epoch) {
        return new GroupKey.Key(tenantId, groupId, epoch);
    }

    private void lockTenant(String tenantId) {
        tenantRows.lockForUpdate(tenantId);
    }

    private void destroyQuietly(HsmKeyLabel label) {
        token.destroyQuietly(label);
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }
}
