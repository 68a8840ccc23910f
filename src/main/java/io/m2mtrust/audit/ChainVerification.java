package io.m2mtrust.audit;

import com.fasterxml.jackson.annotation.JsonAutoDetect;

/**
 * Result of walking a chain: intact (with the newest signed head), or the first broken link.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY, getterVisibility = JsonAutoDetect.Visibility.NONE)
public final class ChainVerification {
    private final String chain;
    private final boolean intact;
    private final long eventsVerified;
    private final Long firstBrokenSeq;
    private final String reason;
    private final Long signedHeadSeq;
    private final Boolean headSignatureValid;
    private final String headSignedBy;
    private final Long eventsAfterSignedHead;

    /** Only the audit log makes one, by walking the chain. */
    ChainVerification(
            String chain,
            boolean intact,
            long eventsVerified,
            Long firstBrokenSeq,
            String reason,
            Long signedHeadSeq,
            Boolean headSignatureValid,
            String headSignedBy,
            Long eventsAfterSignedHead) {
        this.chain = chain;
        this.intact = intact;
        this.eventsVerified = eventsVerified;
        this.firstBrokenSeq = firstBrokenSeq;
        this.reason = reason;
        this.signedHeadSeq = signedHeadSeq;
        this.headSignatureValid = headSignatureValid;
        this.headSignedBy = headSignedBy;
        this.eventsAfterSignedHead = eventsAfterSignedHead;
    }

    public String chain() {
        return chain;
    }

    public boolean intact() {
        return intact;
    }

    public long eventsVerified() {
        return eventsVerified;
    }

    public Long firstBrokenSeq() {
        return firstBrokenSeq;
    }

    public String reason() {
        return reason;
    }

    public Long signedHeadSeq() {
        return signedHeadSeq;
    }

    public Boolean headSignatureValid() {
        return headSignatureValid;
    }

    public String headSignedBy() {
        return headSignedBy;
    }

    /** Events appended after the newest head signature (signed within milliseconds of their commit). */
    public Long eventsAfterSignedHead() {
        return eventsAfterSignedHead;
    }

    static ChainVerification intact(
            String chain, long events, Long headSeq, Boolean sigValid, String signedBy, long afterSignedHead) {
        return new ChainVerification(chain, true, events, null, null, headSeq, sigValid, signedBy, afterSignedHead);
    }

    static ChainVerification broken(String chain, long verified, long brokenSeq, String reason) {
        return new ChainVerification(chain, false, verified, brokenSeq, reason, null, null, null, null);
    }
}
