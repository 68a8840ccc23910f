package io.m2mtrust.common;

import java.security.Provider;

/**
 * The one private (unregistered) Bouncy Castle provider for public-key work done in software: verifying CSR and JWS
 * signatures, ECDH-ES toward certificates. On JDK 17 its P-256 arithmetic is ~4× SunEC's (BENCHMARKS.md); private
 * keys never go through it (they live in the HSM).
 */
public final class SoftwareCrypto {

    public static final Provider BC = new org.bouncycastle.jce.provider.BouncyCastleProvider();

    private SoftwareCrypto() {}
}
