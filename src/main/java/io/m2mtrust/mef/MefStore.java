package io.m2mtrust.mef;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

import java.util.List;
import java.util.Optional;

/**
 * The queries over the MEF's provisioning tables: imported Kpms, enrolment targets and MEF Client Commands
 * ({@link EnrolmentStore} has the enrolments). Callers run inside a transaction.
 */
@ApplicationScoped
class MefStore {

    private final EntityManager em;

    MefStore(EntityManager em) {
        this.em = em;
    }

    List<ImportedKpm> importedKpms(String tenantId) {
        return em.createQuery("from ImportedKpm where tenantId = ?1 order by kpmId", ImportedKpm.class)
                .setParameter(1, tenantId)
                .getResultList();
    }

    int deleteImportedKpm(String tenantId, String kpmId) {
        return em.createQuery("delete from ImportedKpm where tenantId = ?1 and kpmId = ?2")
                .setParameter(1, tenantId)
                .setParameter(2, kpmId)
                .executeUpdate();
    }

    List<EnrolmentTarget> targets(String tenantId) {
        return em.createQuery("from EnrolmentTarget where tenantId = ?1 order by identity", EnrolmentTarget.class)
                .setParameter(1, tenantId)
                .getResultList();
    }

    int deleteTarget(String tenantId, String identity) {
        return em.createQuery("delete from EnrolmentTarget where tenantId = ?1 and identity = ?2")
                .setParameter(1, tenantId)
                .setParameter(2, identity)
                .executeUpdate();
    }

    /** The commands queued for the MEF client registration {@code regId}, oldest first. */
    List<MefClientCommand> commands(String tenantId, String regId) {
        return em.createQuery(
                        "from MefClientCommand where tenantId = ?1 and regId = ?2 order by createdAt, cmdId",
                        MefClientCommand.class)
                .setParameter(1, tenantId)
                .setParameter(2, regId)
                .getResultList();
    }

    Optional<MefClientCommand> oldestPendingCommand(String tenantId, String regId) {
        return em.createQuery(
                        "from MefClientCommand where tenantId = ?1 and regId = ?2 and state = ?3 "
                                + "order by createdAt, cmdId",
                        MefClientCommand.class)
                .setParameter(1, tenantId)
                .setParameter(2, regId)
                .setParameter(3, MefClientCommand.State.PENDING)
                .setMaxResults(1)
                .getResultStream()
                .findFirst();
    }
}
