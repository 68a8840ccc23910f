package io.m2mtrust.ca;

import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;

/**
 * A Bouncy Castle {@link ContentSigner} whose private key never leaves the HSM: the to-be-signed bytes
 * (a TBSCertificate or TBSCertList) are collected and signed ECDSA P-256 / SHA-256 in the token
 * (TS-0003 §10.1.1.3). One instance signs one structure.
 */
final class HsmContentSigner implements ContentSigner {

    private static final AlgorithmIdentifier ECDSA_SHA256 =
            new DefaultSignatureAlgorithmIdentifierFinder().find("SHA256withECDSA");

    private final HsmCrypto hsm;
    private final HsmKeyLabel key;
    private final ByteArrayOutputStream tbs = new ByteArrayOutputStream(512);

    HsmContentSigner(HsmCrypto hsm, HsmKeyLabel key) {
        this.hsm = hsm;
        this.key = key;
    }

    @Override
    public AlgorithmIdentifier getAlgorithmIdentifier() {
        return ECDSA_SHA256;
    }

    @Override
    public OutputStream getOutputStream() {
        return tbs;
    }

    @Override
    public byte[] getSignature() {
        return hsm.signEcdsaP256(key, tbs.toByteArray());
    }
}
