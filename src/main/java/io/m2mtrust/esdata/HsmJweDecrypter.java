package io.m2mtrust.esdata;

import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JWEDecrypter;
import com.nimbusds.jose.jca.JWEJCAContext;

import java.security.Provider;
import java.util.Set;

/**
 * What the HSM-backed JWE decrypters share: the content decryption is always AES-GCM in software with the CEK
 * the HSM gave back (the ESData encryptions, TS-0003 §8.5); only the key management differs.
 */
abstract class HsmJweDecrypter implements JWEDecrypter {

    static final Set<EncryptionMethod> CONTENT_ENCRYPTIONS =
            Set.of(EncryptionMethod.A128GCM, EncryptionMethod.A192GCM, EncryptionMethod.A256GCM);

    final JWEJCAContext jca = new JWEJCAContext();

    HsmJweDecrypter(Provider software) {
        jca.setProvider(software);
    }

    @Override
    public Set<EncryptionMethod> supportedEncryptionMethods() {
        return CONTENT_ENCRYPTIONS;
    }

    @Override
    public JWEJCAContext getJCAContext() {
        return jca;
    }
}
