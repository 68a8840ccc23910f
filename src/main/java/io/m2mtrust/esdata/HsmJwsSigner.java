package io.m2mtrust.esdata;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.impl.ECDSA;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.util.Base64URL;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;

import java.util.Set;

/**
 * ES256 with a private key that never leaves the HSM: the token signs (SHA256withECDSA through
 * SunPKCS11) and the DER signature is transcoded to JOSE's R‖S (RFC 7518 §3.4).
 */
public final class HsmJwsSigner implements JWSSigner {

    private final HsmCrypto hsm;
    private final HsmKeyLabel key;
    private final JCAContext jca = new JCAContext();

    public HsmJwsSigner(HsmCrypto hsm, HsmKeyLabel key) {
        this.hsm = hsm;
        this.key = key;
    }

    @Override
    public Base64URL sign(JWSHeader header, byte[] signingInput) throws JOSEException {
        if (!JWSAlgorithm.ES256.equals(header.getAlgorithm())) {
            throw new JOSEException("the HSM key signs ES256 only");
        }
        byte[] der;
        try {
            der = hsm.signEcdsaP256(key, signingInput);
        } catch (RuntimeException e) {
            throw new JOSEException("HSM signature failed", e);
        }
        return Base64URL.encode(ECDSA.transcodeSignatureToConcat(der, 64));
    }

    @Override
    public Set<JWSAlgorithm> supportedJWSAlgorithms() {
        return Set.of(JWSAlgorithm.ES256);
    }

    @Override
    public JCAContext getJCAContext() {
        return jca;
    }
}
