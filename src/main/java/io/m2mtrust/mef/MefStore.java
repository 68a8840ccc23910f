package io.m2mtrust.mef;

import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;
import java.util.Optional;

/**
 * The queries over the MEF's provisioning tables: imported Kpms, enrolment targets and MEF Client Commands
 * ({@link EnrolmentStore} has the enrolments). Callers run inside a transaction.
 */
@ApplicationScoped
class MefStore {

    List<ImportedKpm> importedKpms(String tenantId) {
        return ImportedKpm.list("tenantId = ?1 order by kpmId", tenantId);
    }

    int deleteImportedKpm(String tenantId, String kpmId) {
        return (int) ImportedKpm.delete("tenantId = ?1 and kpmId = ?2", tenantId, kpmId);
    }

    List<EnrolmentTarget> targets(String tenantId) {
        return EnrolmentTarget.list("tenantId = ?1 order by identity", tenantId);
    }

    int deleteTarget(String tenantId, String identity) {
        return (int) EnrolmentTarget.delete("tenantId = ?1 and identity = ?2", tenantId, identity);
    }

    /** The commands queued for the MEF client registration {@code regId}, oldest first. */
    List<MefClientCommand> commands(String tenantId, String regId) {
        return MefClientCommand.list("tenantId = ?1 and regId = ?2 order by createdAt, cmdId", tenantId, regId);
    }

    Optional<MefClientCommand> oldestPendingCommand(String tenantId, String regId) {
        return MefClientCommand.find(
                        "tenantId = ?1 and regId = ?2 and state = ?3 order by createdAt, cmdId",
                        tenantId,
                        regId,
                        MefClientCommand.State.PENDING)
                .firstResultOptional();
    }
}
