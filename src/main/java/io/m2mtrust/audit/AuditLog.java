package io.m2mtrust.audit;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.common.DatabaseOutage;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.HsmKeyNotFoundException;
import io.m2mtrust.hsm.HsmUnavailableException;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;
import jakarta.transaction.Transactional;
import org.jboss.logging.Logger;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Signature;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.function.Supplier;

/**
 * Appends to and verifies the per-tenant audit hash chains.
 *
 * <p>An append joins the caller's transaction (the event commits with the state change it records, or
 * neither does), holds the chain's head row locked until the commit so links are strictly sequential across
 * replicas, and has the new head signed with the chain owner's HSM signing key (ADR 0019).
 */
@ApplicationScoped
public class AuditLog {

    private static final Logger LOG = Logger.getLogger(AuditLog.class);

    public enum Outcome {
        SUCCESS,
        FAILURE,
        DENIED
    }

    private final AuditStore store;
    private final HsmCrypto crypto;
    private final AuditSigningKeys keyVersions;
    private final AuditHeadSigner heads;
    private final TransactionSynchronizationRegistry transactions;

    AuditLog(
            AuditStore store,
            HsmCrypto crypto,
            AuditSigningKeys keyVersions,
            AuditHeadSigner heads,
            TransactionSynchronizationRegistry transactions) {
        this.store = store;
        this.crypto = crypto;
        this.keyVersions = keyVersions;
        this.heads = heads;
        this.transactions = transactions;
    }

    /**
     * Appends within the current transaction (required): the event commits with the change it records, or neither
     * does. The chain's head row stays locked until the commit (links are strictly sequential across replicas); after
     * the commit the head goes to {@link AuditHeadSigner}, which signs it within milliseconds (ADR 0019). Refused while
     * the HSM is known to be down: an event whose head cannot be signed is not taken.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public AuditEvent append(String chain, String actor, String action, String target, Outcome outcome, String detail) {
        if (!crypto.token().isUp()) {
            throw new HsmUnavailableException("the HSM is not available: the audit head cannot be signed");
        }
        AuditEvent e = store.append(chain, previous -> event(chain, previous, actor, action, target, outcome, detail));
        signAfterCommit(e);
        return e;
    }

    private static AuditEvent event(
            String chain,
            AuditStore.Link previous,
            String actor,
            String action,
            String target,
            Outcome outcome,
            String detail) {
        AuditEvent e = new AuditEvent();
        e.chain = chain;
        e.seq = previous.seq();
        e.prevHash = previous.hash();
        e.occurredAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        e.actor = truncate(actor, 200);
        e.action = action;
        e.target = truncate(target, 300);
        e.outcome = outcome.name();
        e.detail = truncate(detail, 1000);
        e.hash = AuditChainHash.of(e);
        return e;
    }

    /**
     * The last event of a chain whose signing key is about to be destroyed (a tenant's deletion): appended and its
     * head signed in this transaction, because after the commit no key is left to sign it with.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public void appendClosing(String chain, String actor, String action, String target, String detail) {
        if (!crypto.token().isUp()) {
            throw new HsmUnavailableException("the HSM is not available: the audit head cannot be signed");
        }
        AuditEvent e =
                store.append(chain, previous -> event(chain, previous, actor, action, target, Outcome.SUCCESS, detail));
        heads.signNow(e.chain, e.seq, e.hash);
    }

    /** Hands the transaction's newest link of each chain to the signer after the commit: it covers the earlier ones. */
    private void signAfterCommit(AuditEvent e) {
        String key = "m2m-audit-head|" + e.chain;
        AuditEvent[] newest = (AuditEvent[]) transactions.getResource(key);
        if (newest != null) {
            newest[0] = e;
            return;
        }
        AuditEvent[] holder = {e};
        transactions.putResource(key, holder);
        transactions.registerInterposedSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {}

            @Override
            public void afterCompletion(int status) {
                if (status == Status.STATUS_COMMITTED) {
                    heads.committed(holder[0].chain, holder[0].seq, holder[0].hash);
                }
            }
        });
    }

    /** Appends in its own transaction: for failures whose main transaction rolls back. */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public void appendIndependently(
            String chain, String actor, String action, String target, Outcome outcome, String detail) {
        append(chain, actor, action, target, outcome, detail);
    }

    /**
     * Runs an admin action and, when it is refused (conflict, precondition, validation), chains a
     * FAILURE event in its own transaction before rethrowing. HSM and database outages are not chained: the
     * head could not be signed or stored; they are logged and visible in metrics.
     */
    public <T> T auditRefusals(String chain, String actor, String action, String target, Supplier<T> work) {
        try {
            return work.get();
        } catch (HsmUnavailableException e) {
            throw e;
        } catch (RuntimeException e) {
            if (DatabaseOutage.causedBy(e)) {
                throw e; // nothing to chain into: the database is what failed (503, retried by the client)
            }
            String why = e instanceof ApiProblem p ? p.status() + " " + p.detail() : "refused: " + e.getMessage();
            try {
                appendIndependently(chain, actor, action, target, Outcome.FAILURE, why);
            } catch (RuntimeException auditFailure) {
                LOG.warnf("could not chain the refused %s on %s (%s)", action, chain, auditFailure.getMessage());
            }
            throw e;
        }
    }

    /**
     * Runs {@code change} in its own transaction and chains its SUCCESS in that same transaction (no change
     * without its link, no link without its change); a refusal is chained as a FAILURE, as in {@link
     * #auditRefusals}.
     */
    public <T> T change(String chain, String actor, String action, String target, Supplier<Audited<T>> change) {
        return auditRefusals(
                chain,
                actor,
                action,
                target,
                () -> QuarkusTransaction.requiringNew().call(() -> {
                    Audited<T> done = change.get();
                    append(
                            chain,
                            actor,
                            action,
                            done.targetOrNull() == null ? target : done.targetOrNull(),
                            Outcome.SUCCESS,
                            done.detail());
                    return done.result();
                }));
    }

    /**
     * Walks the whole chain, recomputing every link; then checks that it ends where its head row says (events dropped
     * from the end are detected before the next signature) and that the newest head signature is valid over the link
     * at its sequence number. Events appended after that signature are reported as {@code eventsAfterSignedHead}: a
     * signature follows every commit within milliseconds, so at rest there are none.
     */
    @Transactional(Transactional.TxType.SUPPORTS)
    public ChainVerification verify(String chain) {
        heads.flush(chain, 2_000); // the heads committed here a moment ago are signed first
        long recordedHead = store.headSeq(chain);
        AuditHeadSignature s = store.newestSignature(chain).orElse(null);
        byte[] prev = AuditChainHash.GENESIS;
        byte[] hashAtSignature = null;
        long expectedSeq = 1;
        long count = 0;
        final int pageSize = 1000;
        while (true) {
            List<AuditEvent> batch = store.pageFrom(chain, expectedSeq, pageSize);
            for (AuditEvent e : batch) {
                String broken = null;
                if (e.seq != expectedSeq) {
                    broken = "sequence gap: expected " + expectedSeq + ", found " + e.seq;
                } else if (!MessageDigest.isEqual(prev, e.prevHash)) {
                    broken = "previous-hash link does not match event " + (expectedSeq - 1);
                } else if (!MessageDigest.isEqual(AuditChainHash.of(e), e.hash)) {
                    broken = "event content does not match its hash";
                }
                if (broken != null) {
                    return ChainVerification.broken(chain, count, expectedSeq, broken);
                }
                prev = e.hash;
                if (s != null && e.seq == s.seq) {
                    hashAtSignature = e.hash;
                }
                expectedSeq++;
                count++;
            }
            if (batch.size() < pageSize) {
                break;
            }
        }
        if (s != null) {
            if (s.seq > count) {
                return ChainVerification.broken(
                        chain, count, count + 1, "head signature names seq " + s.seq + " beyond the chain's end");
            }
            if (!MessageDigest.isEqual(s.hash, hashAtSignature) || !verifySignature(s)) {
                return ChainVerification.broken(chain, count, s.seq, "head signature does not verify");
            }
        }
        if (count < recordedHead) {
            return ChainVerification.broken(
                    chain,
                    count,
                    count + 1,
                    "the chain ends at seq " + count + " but its head row records " + recordedHead);
        }
        if (count == 0) {
            return ChainVerification.intact(chain, 0, null, null, null, 0);
        }
        if (s == null) {
            return ChainVerification.intact(chain, count, null, false, null, count);
        }
        return ChainVerification.intact(chain, count, s.seq, true, s.keyLabel, count - s.seq);
    }

    /**
     * Verifies in software with the signer's public key: the platform key from the token, a tenant key
     * from its stored SubjectPublicKeyInfo, so a shredded tenant's chain stays verifiable.
     */
    private boolean verifySignature(AuditHeadSignature s) {
        HsmKeyLabel label = HsmKeyLabel.parse(s.keyLabel);
        if (label == null) {
            return false;
        }
        byte[] statement = AuditChainHash.headStatement(s.chain, s.seq, s.hash);
        if (HsmKeyLabel.PLATFORM.equals(label.owner())) {
            try {
                return crypto.verifyEcdsaP256(label, statement, s.signature);
            } catch (HsmKeyNotFoundException e) {
                return false;
            }
        }
        return keyVersions
                .signingPublicKey(label)
                .map(pk -> {
                    try {
                        Signature v = Signature.getInstance("SHA256withECDSA");
                        v.initVerify(pk);
                        v.update(statement);
                        return v.verify(s.signature);
                    } catch (GeneralSecurityException e) {
                        return false;
                    }
                })
                .orElseGet(() -> {
                    LOG.warnf("audit head of %s was signed with %s, whose public key is unknown", s.chain, s.keyLabel);
                    return false;
                });
    }

    @Transactional(Transactional.TxType.SUPPORTS)
    public List<AuditEvent> list(String chain, long afterSeq, int limit) {
        return store.after(chain, afterSeq, limit);
    }

    /**
     * The newest events of a chain (at most {@code limit}) whose action starts with {@code actionPrefix} and whose
     * outcome is {@code outcome} (each filter optional), older than {@code beforeSeq} when given.
     */
    @Transactional(Transactional.TxType.SUPPORTS)
    public List<AuditResource.AuditEventView> search(
            String chain, String actionPrefix, String outcome, Long beforeSeq, int limit) {
        return store.search(chain, actionPrefix, outcome, beforeSeq, limit).stream()
                .map(AuditResource.AuditEventView::of)
                .toList();
    }

    private static String truncate(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max);
    }
}
