package io.m2mtrust.audit;

/**
 * Result of walking a chain: intact (with the newest signed head), or the first broken link.
 */
public record ChainVerification(
        String chain,
        boolean intact,
        long eventsVerified,
        Long firstBrokenSeq,
        String reason,
        Long signedHeadSeq,
        Boolean headSignatureValid,
        String headSignedBy) {

    static ChainVerification intact(String chain, long events, Long headSeq, Boolean sigValid, String signedBy) {
        return new ChainVerification(chain, true, events, null, null, headSeq, sigValid, signedBy);
    }

    static ChainVerification broken(String chain, long verified, long brokenSeq, String reason) {
        return new ChainVerification(chain, false, verified, brokenSeq, reason, null, null, null);
    }
}
