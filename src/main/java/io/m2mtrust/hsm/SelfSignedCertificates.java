package io.m2mtrust.hsm;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;

/**
 * The self-signed certificate stored beside each HSM private key (a PKCS#11 KeyStore entry needs
 * one). It is signed inside the token and carries the label as its subject; it is a holder of the
 * public key, not a trust anchor.
 */
public final class SelfSignedCertificates implements Pkcs11Token.CertificateMaker {

    private static final SecureRandom RANDOM = new SecureRandom();

    @Override
    public Certificate selfSigned(HsmKeyLabel label, KeyPair keyPair, Provider provider) throws Exception {
        X500Name subject = new X500Name("CN=" + label.value().replace('/', '.') + ",O=m2m-trust key holder");
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                subject,
                new BigInteger(127, RANDOM),
                Date.from(now.minus(1, ChronoUnit.MINUTES)),
                Date.from(now.plus(3650, ChronoUnit.DAYS)),
                subject,
                keyPair.getPublic());
        ContentSigner signer = new JcaContentSignerBuilder(
                        keyPair.getPublic() instanceof java.security.interfaces.RSAPublicKey
                                ? "SHA256withRSA"
                                : "SHA256withECDSA")
                .setProvider(provider)
                .build(keyPair.getPrivate());
        return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    }
}
