package io.m2mtrust.esdata;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.impl.ECDSA;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.util.Base64URL;
import io.m2mtrust.hsm.AsymmetricKeyType;
import io.m2mtrust.hsm.HsmCrypto;
import io.m2mtrust.hsm.HsmKeyLabel;

import java.util.Set;

/**
 * JWS signatures with a private key that never leaves the HSM: ES256/384/512 (the token signs with
 * SHAxxxwithECDSA; the DER signature is transcoded to JOSE's R‖S, RFC 7518 §3.4) or RS256/384/512
 * (SHAxxxwithRSA, PKCS#1 v1.5 as JWS RS* requires), as the end-point's key type allows.
 */
public final class HsmJwsSigner implements JWSSigner {

    private final HsmCrypto hsm;
    private final HsmKeyLabel key;
    private final AsymmetricKeyType type;
    private final JWSAlgorithm alg;
    private final JCAContext jca = new JCAContext();

    /** ES256 with an EC P-256 key. */
    public HsmJwsSigner(HsmCrypto hsm, HsmKeyLabel key) {
        this(hsm, key, AsymmetricKeyType.EC_P256, "ES256");
    }

    public HsmJwsSigner(HsmCrypto hsm, HsmKeyLabel key, AsymmetricKeyType type, String jwsAlgorithm) {
        type.jcaSignature(jwsAlgorithm); // refuses an algorithm the key does not make
        this.hsm = hsm;
        this.key = key;
        this.type = type;
        this.alg = JWSAlgorithm.parse(jwsAlgorithm);
    }

    @Override
    public Base64URL sign(JWSHeader header, byte[] signingInput) throws JOSEException {
        if (!alg.equals(header.getAlgorithm())) {
            throw new JOSEException("this HSM key signs " + alg + " only");
        }
        byte[] sig;
        try {
            sig = hsm.signWith(key, type.jcaSignature(alg.getName()), signingInput);
        } catch (RuntimeException e) {
            throw new JOSEException("HSM signature failed", e);
        }
        return Base64URL.encode(type.isEc() ? ECDSA.transcodeSignatureToConcat(sig, 2 * type.ecdsaPartLength()) : sig);
    }

    @Override
    public Set<JWSAlgorithm> supportedJWSAlgorithms() {
        return Set.of(alg);
    }

    @Override
    public JCAContext getJCAContext() {
        return jca;
    }
}
