package io.m2mtrust.audit;

import io.m2mtrust.common.ApiProblem;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import io.m2mtrust.hsm.HsmKeyNotFoundException;
import io.m2mtrust.hsm.HsmUnavailableException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import org.jboss.logging.Logger;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Signature;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Appends to and verifies the per-tenant audit hash chains.
 *
 * <p>An append joins the caller's transaction (the event commits with the state change it records, or
 * neither does), takes a per-chain advisory lock so links are strictly sequential across replicas, and
 * signs the new head with the chain owner's HSM signing key.
 */
@ApplicationScoped
public class AuditLog {

    private static final Logger LOG = Logger.getLogger(AuditLog.class);

    public enum Outcome {
        SUCCESS,
        FAILURE,
        DENIED
    }

    private final EntityManager em;
    private final HsmCrypto crypto;
    private final AuditSigningKeys keyVersions;

    AuditLog(EntityManager em, HsmCrypto crypto, AuditSigningKeys keyVersions) {
        this.em = em;
        this.crypto = crypto;
        this.keyVersions = keyVersions;
    }

    /** Appends within the current transaction (required). */
    @Transactional(Transactional.TxType.MANDATORY)
    public AuditEvent append(String chain, String actor, String action, String target, Outcome outcome, String detail) {
        em.createNativeQuery("select count(*) from (select pg_advisory_xact_lock(hashtextextended(?1, 7301))) l")
                .setParameter(1, chain)
                .getSingleResult();
        List<AuditEvent> heads = em.createQuery("from AuditEvent where chain = ?1 order by seq desc", AuditEvent.class)
                .setParameter(1, chain)
                .setMaxResults(1)
                .getResultList();
        AuditEvent head = heads.isEmpty() ? null : heads.get(0);
        AuditEvent e = new AuditEvent();
        e.chain = chain;
        e.seq = head == null ? 1 : head.seq + 1;
        e.prevHash = head == null ? AuditChainHash.GENESIS : head.hash;
        e.occurredAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        e.actor = truncate(actor, 200);
        e.action = action;
        e.target = truncate(target, 300);
        e.outcome = outcome.name();
        e.detail = truncate(detail, 1000);
        e.hash = AuditChainHash.of(e);
        em.persist(e);
        signHead(chain, e.seq, e.hash);
        return e;
    }

    /** Appends in its own transaction: for failures whose main transaction rolls back. */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public void appendIndependently(
            String chain, String actor, String action, String target, Outcome outcome, String detail) {
        append(chain, actor, action, target, outcome, detail);
    }

    /**
     * Runs an admin action and, when it is refused (conflict, precondition, validation), chains a
     * FAILURE event in its own transaction before rethrowing. HSM outages are not chained: the head
     * could not be signed; they are logged and visible in metrics.
     */
    public <T> T auditRefusals(
            String chain, String actor, String action, String target, java.util.function.Supplier<T> work) {
        try {
            return work.get();
        } catch (HsmUnavailableException e) {
            throw e;
        } catch (RuntimeException e) {
            String why = e instanceof ApiProblem p ? p.status() + " " + p.detail() : "refused: " + e.getMessage();
            try {
                appendIndependently(chain, actor, action, target, Outcome.FAILURE, why);
            } catch (RuntimeException auditFailure) {
                LOG.warnf("could not chain the refused %s on %s (%s)", action, chain, auditFailure.getMessage());
            }
            throw e;
        }
    }

    private void signHead(String chain, long seq, byte[] hash) {
        HsmKeyLabel key = keyVersions.signingKeyOf(chain);
        AuditHeadSignature s = new AuditHeadSignature();
        s.chain = chain;
        s.seq = seq;
        s.hash = hash;
        s.keyLabel = key.value();
        s.signature = crypto.signEcdsaP256(key, AuditChainHash.headStatement(chain, seq, hash));
        s.signedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        em.persist(s);
    }

    /** Walks the whole chain, recomputing every link, then checks the newest head signature. */
    @Transactional(Transactional.TxType.SUPPORTS)
    public ChainVerification verify(String chain) {
        byte[] prev = AuditChainHash.GENESIS;
        long expectedSeq = 1;
        long count = 0;
        final int pageSize = 1000;
        while (true) {
            List<AuditEvent> batch = em.createQuery(
                            "from AuditEvent where chain = ?1 and seq >= ?2 order by seq", AuditEvent.class)
                    .setParameter(1, chain)
                    .setParameter(2, expectedSeq)
                    .setMaxResults(pageSize)
                    .getResultList();
            for (AuditEvent e : batch) {
                em.detach(e);
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
                expectedSeq++;
                count++;
            }
            if (batch.size() < pageSize) {
                break;
            }
        }
        if (count == 0) {
            return ChainVerification.intact(chain, 0, null, null, null);
        }
        List<AuditHeadSignature> sigs = em.createQuery(
                        "from AuditHeadSignature where chain = ?1 order by seq desc", AuditHeadSignature.class)
                .setParameter(1, chain)
                .setMaxResults(1)
                .getResultList();
        if (sigs.isEmpty()) {
            return ChainVerification.intact(chain, count, count, false, null);
        }
        AuditHeadSignature s = sigs.get(0);
        boolean valid = s.seq == count && MessageDigest.isEqual(s.hash, prev) && verifySignature(s);
        if (!valid) {
            return ChainVerification.broken(chain, count, s.seq, "head signature does not verify");
        }
        return ChainVerification.intact(chain, count, s.seq, true, s.keyLabel);
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
        return em.createQuery("from AuditEvent where chain = ?1 and seq > ?2 order by seq", AuditEvent.class)
                .setParameter(1, chain)
                .setParameter(2, afterSeq)
                .setMaxResults(limit)
                .getResultList();
    }

    /**
     * The newest events of a chain (at most {@code limit}) whose action starts with {@code actionPrefix} and whose
     * outcome is {@code outcome} (each filter optional), older than {@code beforeSeq} when given.
     */
    @Transactional(Transactional.TxType.SUPPORTS)
    public List<AuditResource.AuditEventView> search(
            String chain, String actionPrefix, String outcome, Long beforeSeq, int limit) {
        StringBuilder q = new StringBuilder("from AuditEvent where chain = :chain");
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("chain", chain);
        if (actionPrefix != null && !actionPrefix.isBlank()) {
            q.append(" and action like :action");
            params.put("action", actionPrefix.trim().replace("%", "") + "%");
        }
        if (outcome != null) {
            q.append(" and outcome = :outcome");
            params.put("outcome", outcome);
        }
        if (beforeSeq != null) {
            q.append(" and seq < :before");
            params.put("before", beforeSeq);
        }
        var query = em.createQuery(q.append(" order by seq desc").toString(), AuditEvent.class)
                .setMaxResults(limit);
        params.forEach(query::setParameter);
        return query.getResultStream().map(AuditResource.AuditEventView::of).toList();
    }

    private static String truncate(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max);
    }
}
