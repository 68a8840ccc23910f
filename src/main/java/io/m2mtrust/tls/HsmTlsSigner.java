package io.m2mtrust.tls;

import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.HashAlgorithm;
import org.bouncycastle.tls.SignatureAlgorithm;
import org.bouncycastle.tls.SignatureAndHashAlgorithm;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.crypto.TlsSigner;
import org.bouncycastle.tls.crypto.TlsStreamSigner;

import java.io.IOException;

/**
 * Signs the ServerKeyExchange with the tenant's TLS key inside the HSM: Bouncy Castle hashes the
 * handshake parameters (SHA-256) and hands the digest over; the token signs it (CKM_ECDSA). The
 * private key is never exported (the service TLS key lives in the HSM).
 */
public final class HsmTlsSigner implements TlsSigner {

    private final HsmCrypto hsm;
    private final HsmKeyLabel key;

    public HsmTlsSigner(HsmCrypto hsm, HsmKeyLabel key) {
        this.hsm = hsm;
        this.key = key;
    }

    @Override
    public byte[] generateRawSignature(SignatureAndHashAlgorithm algorithm, byte[] hash) throws IOException {
        if (algorithm == null
                || algorithm.getSignature() != SignatureAlgorithm.ecdsa
                || algorithm.getHash() != HashAlgorithm.sha256) {
            throw new TlsFatalAlert(AlertDescription.internal_error, "only ecdsa_secp256r1_sha256 is signed");
        }
        try {
            return hsm.signEcdsaP256Digest(key, hash);
        } catch (RuntimeException e) {
            throw new TlsFatalAlert(AlertDescription.internal_error, "HSM signature failed", e);
        }
    }

    @Override
    public TlsStreamSigner getStreamSigner(SignatureAndHashAlgorithm algorithm) {
        return null; // BC hashes, then calls generateRawSignature
    }
}
