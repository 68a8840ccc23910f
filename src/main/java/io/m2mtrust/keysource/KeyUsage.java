package io.m2mtrust.keysource;

import java.util.Locale;

/**
 * What a symmetric end-to-end key is asked for, and the SUID (TS-0004 m2m:suid) each key family holds for it:
 * pre-provisioned 1x, RSPF/MEF 2x, MAF 3x, established by ESCertKE (certificates) 4x.
 */
public enum KeyUsage {
    /** ESData encryption (JWE). */
    ENCRYPT(34, 24, 14, 44),
    /** ESData integrity (JWS MAC). */
    MAC(35, 25, 15, 45),
    /** pairwiseESPrimKey (TS-0003 §8.4.2 A): MAF 33, RSPF 23, pre-provisioned 13, ESCertKE 43. */
    ESPRIM(33, 23, 13, 43);

    private final int mafSuid;
    private final int mefSuid;
    private final int preprovisionedSuid;
    private final int certificateSuid;

    KeyUsage(int mafSuid, int mefSuid, int preprovisionedSuid, int certificateSuid) {
        this.mafSuid = mafSuid;
        this.mefSuid = mefSuid;
        this.preprovisionedSuid = preprovisionedSuid;
        this.certificateSuid = certificateSuid;
    }

    /** SUID of a key registered with the MAF for this usage. */
    public int mafSuid() {
        return mafSuid;
    }

    /** SUID of a key registered with (or fetched from) the MEF for this usage. */
    public int mefSuid() {
        return mefSuid;
    }

    public int preprovisionedSuid() {
        return preprovisionedSuid;
    }

    /** SUID of a key established by ESCertKE for this usage. */
    public int certificateSuid() {
        return certificateSuid;
    }

    /** Lower-case name, as refusals say it. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }
}
