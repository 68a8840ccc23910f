package io.m2mtrust.ca;

import io.m2mtrust.common.CertificateSubject;
import io.m2mtrust.common.SoftwareCrypto;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/**
 * The checks an EST CSR must pass before anything is signed (TS-0003 §10.1.4, §8.3.6.2.2 step 3 d;
 * RFC 7030 §3.5 / §4.2): well-formed PKCS#10, self-signature (proof of possession), EC P-256 uncompressed
 * key, ecdsa-with-SHA256, the session's channel binding as challengePassword, and a subjectAltName that
 * is exactly the identity the MEF associates with the client — no wildcard, no other name.
 */
public final class CsrCheck {

    /** Largest CSR accepted (a P-256 CSR with one name is well under 1 KiB). */
    public static final int MAX_CSR_BYTES = 8192;

    /** Why a CSR was refused: 400 for a malformed or weak request, 403 for an identity this client may not have. */
    public static final class Refused extends Exception {
        private final int status;

        Refused(int status, String why) {
            super(why, null, false, false);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    /** A CSR that passed: the key to certify. */
    public static final class Accepted {
        private final PublicKey publicKey;

        /** Only {@link CsrCheck} makes one, after every check passed. */
        Accepted(PublicKey publicKey) {
            this.publicKey = publicKey;
        }

        public PublicKey publicKey() {
            return publicKey;
        }
    }

    private CsrCheck() {}

    /**
     * @param base64Body     the HTTP body (base64 of the DER CSR, RFC 7030 §4.2.1)
     * @param expected       the identity the client may have
     * @param channelBinding the session's {@code EXPORTER-Channel-Binding} value; the CSR's challengePassword
     *                       must be its base64 (binds the CSR to this TLS session, like RFC 7030 §3.5)
     */
    public static Accepted check(byte[] base64Body, CertificateSubject expected, byte[] channelBinding) throws Refused {
        if (base64Body.length == 0) {
            throw new Refused(400, "empty request: send a base64 PKCS#10 CSR");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(base64Body);
        } catch (IllegalArgumentException e) {
            throw new Refused(400, "body is not base64");
        }
        if (der.length == 0 || der.length > MAX_CSR_BYTES) {
            throw new Refused(400, "CSR is empty or larger than " + MAX_CSR_BYTES + " bytes");
        }
        PKCS10CertificationRequest csr;
        try {
            csr = new PKCS10CertificationRequest(der);
        } catch (Exception e) {
            throw new Refused(400, "not a DER PKCS#10 certification request");
        }
        AlgorithmIdentifier sigAlg = csr.getSignatureAlgorithm();
        if (!X9ObjectIdentifiers.ecdsa_with_SHA256.equals(sigAlg.getAlgorithm())) {
            throw new Refused(400, "CSR must be signed with ecdsa-with-SHA256 (TS-0003 §10.1.1.3)");
        }
        SubjectPublicKeyInfo spki = csr.getSubjectPublicKeyInfo();
        if (!X9ObjectIdentifiers.id_ecPublicKey.equals(spki.getAlgorithm().getAlgorithm())
                || !SECObjectIdentifiers.secp256r1.equals(spki.getAlgorithm().getParameters())) {
            throw new Refused(400, "the key must be EC on the named curve secp256r1 / P-256 (TS-0003 §10.1.1.1)");
        }
        byte[] point = spki.getPublicKeyData().getBytes();
        if (point.length != 65 || point[0] != 0x04) {
            throw new Refused(400, "the public key must be an uncompressed P-256 point (TS-0003 §10.1.1.1)");
        }
        PublicKey key;
        try {
            key = java.security.KeyFactory.getInstance("EC", SoftwareCrypto.BC)
                    .generatePublic(new X509EncodedKeySpec(spki.getEncoded()));
            if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder()
                    .setProvider(SoftwareCrypto.BC)
                    .build(key))) {
                throw new Refused(400, "CSR signature does not verify (no proof of possession)");
            }
        } catch (Refused r) {
            throw r;
        } catch (Exception e) {
            throw new Refused(400, "CSR key or signature is invalid");
        }
        checkChallengePassword(csr, channelBinding);
        checkSubjectAltName(csr, expected);
        return new Accepted(key);
    }

    private static void checkChallengePassword(PKCS10CertificationRequest csr, byte[] channelBinding) throws Refused {
        Attribute[] attrs = csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_challengePassword);
        if (attrs.length != 1 || attrs[0].getAttrValues().size() != 1) {
            throw new Refused(
                    400,
                    "the CSR must carry one challengePassword: base64 of this session's EXPORTER-Channel-Binding (see csrattrs)");
        }
        ASN1Encodable v = attrs[0].getAttrValues().getObjectAt(0);
        if (!(v instanceof ASN1String s)) {
            throw new Refused(400, "challengePassword is not a string");
        }
        byte[] expected = Base64.getEncoder().encode(channelBinding);
        if (!MessageDigest.isEqual(expected, s.getString().getBytes(StandardCharsets.US_ASCII))) {
            throw new Refused(
                    400,
                    "challengePassword does not match this TLS session (a CSR made for another session is refused)");
        }
    }

    private static void checkSubjectAltName(PKCS10CertificationRequest csr, CertificateSubject expected)
            throws Refused {
        Attribute[] req = csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest);
        if (req.length != 1 || req[0].getAttrValues().size() != 1) {
            throw new Refused(400, "the CSR must request a subjectAltName (TS-0003 §10.1.4)");
        }
        Extensions exts;
        try {
            exts = Extensions.getInstance(req[0].getAttrValues().getObjectAt(0));
        } catch (IllegalArgumentException e) {
            throw new Refused(400, "malformed extensionRequest");
        }
        GeneralNames names;
        try {
            names = GeneralNames.fromExtensions(exts, Extension.subjectAlternativeName);
        } catch (IllegalArgumentException e) {
            throw new Refused(400, "malformed subjectAltName");
        }
        if (names == null || names.getNames().length == 0) {
            throw new Refused(400, "the CSR must request a subjectAltName (TS-0003 §10.1.4)");
        }
        for (GeneralName n : names.getNames()) {
            if (n.toString().contains("*")) {
                throw new Refused(400, "wildcards are not allowed in certificates (TS-0003 §10.1.1)");
            }
        }
        for (GeneralName n : names.getNames()) {
            boolean same = n.getTagNo() == expected.type().generalNameTag()
                    && n.getName() instanceof ASN1String s
                    && s.getString().equals(expected.id());
            if (!same) {
                throw new Refused(
                        403,
                        "subjectAltName " + describe(n) + " is not this client's identity; it may request only "
                                + expected.type() + " " + expected.id());
            }
        }
    }

    private static String describe(GeneralName n) {
        String v = n.getName() instanceof ASN1String s
                ? s.getString()
                : n.getName().toString();
        if (v.length() > 120) {
            v = v.substring(0, 120) + "…";
        }
        return v.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
