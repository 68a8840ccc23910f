package io.m2mtrust.audit;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.security.AdminAccess;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The one shape of an admin's change to a tenant's rows: it runs in its own transaction and is chained in the
 * tenant's audit log as the calling admin's, in that same transaction (no change without its link, no link
 * without its change); a refused change (policy, conflict, validation) is chained as a FAILURE.
 */
@ApplicationScoped
public class AdminChanges {

    private final AuditLog audit;
    private final AdminAccess access;

    AdminChanges(AuditLog audit, AdminAccess access) {
        this.audit = audit;
        this.access = access;
    }

    /** Runs {@code change} and chains {@code action} on {@code target} with its detail. */
    public <T> T make(String tenant, String action, String target, Supplier<Audited<T>> change) {
        return audit.change(tenant, access.actor(), action, target, change);
    }

    /**
     * Runs {@code change} (a delete or a revoke, true when it found what it names) and chains {@code action} on
     * {@code target}; 404 naming {@code what} when there was nothing to change (nothing is chained then).
     */
    public void remove(String tenant, String action, String target, BooleanSupplier change, String what) {
        String actor = access.actor();
        boolean done = QuarkusTransaction.requiringNew().call(() -> {
            if (!change.getAsBoolean()) {
                return false;
            }
            audit.append(tenant, actor, action, target, AuditLog.Outcome.SUCCESS, null);
            return true;
        });
        if (!done) {
            throw ApiProblem.notFound(what);
        }
    }
}
