package io.m2mtrust.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.m2mtrust.common.CertificateSubject;
import io.m2mtrust.common.SubjectType;
import org.bouncycastle.asn1.DERPrintableString;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;

/** CSR policy without a server: the wrong-algorithm and wrong-identity cases OpenSSL's defaults do not produce. */
class CsrCheckTest {

    static final byte[] BINDING = new byte[32];
    static final CertificateSubject CSE = new CertificateSubject(SubjectType.CSE_ID, "gw-1.in.acme.example");

    static KeyPair ec(String curve) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec(curve));
        return g.generateKeyPair();
    }

    static byte[] csr(KeyPair kp, SubjectPublicKeyInfo spki, String sigAlg, String challenge, GeneralName... names)
            throws Exception {
        PKCS10CertificationRequestBuilder b = spki == null
                ? new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=x"), kp.getPublic())
                : new PKCS10CertificationRequestBuilder(new X500Name("CN=x"), spki);
        if (challenge != null) {
            b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_challengePassword, new DERPrintableString(challenge));
        }
        if (names.length > 0) {
            ExtensionsGenerator eg = new ExtensionsGenerator();
            eg.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, eg.generate());
        }
        return Base64.getEncoder()
                .encode(b.build(new JcaContentSignerBuilder(sigAlg).build(kp.getPrivate()))
                        .getEncoded());
    }

    static String good() {
        return Base64.getEncoder().encodeToString(BINDING);
    }

    static int status(byte[] body, CertificateSubject expected) {
        try {
            CsrCheck.check(body, expected, BINDING);
            return 200;
        } catch (CsrCheck.Refused r) {
            return r.status();
        }
    }

    @Test
    void a_well_formed_p256_csr_for_the_right_identity_passes() throws Exception {
        byte[] body =
                csr(ec("secp256r1"), null, "SHA256withECDSA", good(), new GeneralName(GeneralName.dNSName, CSE.id()));
        assertThat(CsrCheck.check(body, CSE, BINDING).publicKey().getAlgorithm())
                .isEqualTo("EC");
    }

    @Test
    void wrong_algorithms_are_400() throws Exception {
        GeneralName san = new GeneralName(GeneralName.dNSName, CSE.id());
        assertThat(status(csr(ec("secp384r1"), null, "SHA256withECDSA", good(), san), CSE))
                .as("P-384")
                .isEqualTo(400);
        assertThat(status(csr(ec("secp256r1"), null, "SHA384withECDSA", good(), san), CSE))
                .as("SHA-384")
                .isEqualTo(400);
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        assertThat(status(csr(rsa.generateKeyPair(), null, "SHA256withRSA", good(), san), CSE))
                .as("RSA")
                .isEqualTo(400);
        // a compressed point (TS-0003 §10.1.1.1 wants uncompressed)
        KeyPair kp = ec("secp256r1");
        java.security.interfaces.ECPublicKey pub = (java.security.interfaces.ECPublicKey) kp.getPublic();
        byte[] x = org.bouncycastle.util.BigIntegers.asUnsignedByteArray(
                32, pub.getW().getAffineX());
        byte[] point = new byte[33];
        point[0] = (byte) (pub.getW().getAffineY().testBit(0) ? 3 : 2);
        System.arraycopy(x, 0, point, 1, 32);
        SubjectPublicKeyInfo compressed = new SubjectPublicKeyInfo(
                SubjectPublicKeyInfo.getInstance(pub.getEncoded()).getAlgorithm(), point);
        assertThat(status(csr(kp, compressed, "SHA256withECDSA", good(), san), CSE))
                .as("compressed point")
                .isEqualTo(400);
    }

    @Test
    void a_forged_signature_is_400() throws Exception {
        byte[] body = Base64.getDecoder()
                .decode(csr(
                        ec("secp256r1"),
                        null,
                        "SHA256withECDSA",
                        good(),
                        new GeneralName(GeneralName.dNSName, CSE.id())));
        body[body.length - 5] ^= 1; // inside the signature
        assertThat(status(Base64.getEncoder().encode(body), CSE)).isEqualTo(400);
    }

    @Test
    void challenge_password_must_be_this_sessions_binding() throws Exception {
        GeneralName san = new GeneralName(GeneralName.dNSName, CSE.id());
        assertThat(status(csr(ec("secp256r1"), null, "SHA256withECDSA", null, san), CSE))
                .isEqualTo(400);
        assertThat(status(
                        csr(
                                ec("secp256r1"),
                                null,
                                "SHA256withECDSA",
                                Base64.getEncoder().encodeToString(new byte[31]),
                                san),
                        CSE))
                .isEqualTo(400);
    }

    @ParameterizedTest
    @CsvSource({
        "2, *.in.acme.example, 400",
        "2, gw-2.in.acme.example, 403",
        "6, https://in.acme.example/cse/Cgw-1, 403",
        "2, gw-1.in.acme.example, 200"
    })
    void subject_alt_name_is_exactly_the_associated_identity(int tag, String value, int expected) throws Exception {
        assertThat(status(csr(ec("secp256r1"), null, "SHA256withECDSA", good(), new GeneralName(tag, value)), CSE))
                .isEqualTo(expected);
    }

    @Test
    void flavours_validate_their_identity_form() {
        assertThat(SubjectType.CSE_ID.problemWith("gw-1.in.acme.example")).isNull();
        assertThat(SubjectType.CSE_ID.problemWith("GW-1.in.acme.example")).isNotNull();
        assertThat(SubjectType.FQDN.problemWith("mef.acme.m2m-trust.local")).isNull();
        assertThat(SubjectType.FQDN.problemWith("*.acme.example")).contains("wildcard");
        assertThat(SubjectType.AE_ID.problemWith("https://in.acme.example/cse-in/Cmeter1"))
                .isNull();
        assertThat(SubjectType.AE_ID.problemWith("Cmeter1")).isNotNull();
        assertThat(SubjectType.NODE_ID.problemWith("urn:oid:1.3.6.1.4.1.99999.1.42"))
                .isNull();
        assertThat(SubjectType.NODE_ID.problemWith("node-42")).isNotNull();
        assertThat(SubjectType.NODE_ID.generalName("urn:oid:1.2.3").getTagNo())
                .isEqualTo(GeneralName.uniformResourceIdentifier);
        assertThat(SubjectType.CSE_ID.generalName("a.b").getTagNo()).isEqualTo(GeneralName.dNSName);
        assertThat(SubjectType.parse("cse-id")).isEqualTo(SubjectType.CSE_ID);
        assertThatThrownBy(() -> SubjectType.parse("toaster")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void garbage_is_400() {
        assertThat(status("%%%".getBytes(), CSE)).isEqualTo(400);
        assertThat(status(new byte[0], CSE)).isEqualTo(400);
        assertThat(status(Base64.getEncoder().encode(new byte[CsrCheck.MAX_CSR_BYTES + 1]), CSE))
                .isEqualTo(400);
        assertThat(status(Base64.getEncoder().encode("not der".getBytes()), CSE))
                .isEqualTo(400);
        assertThat(status(new DERUTF8String("x").toString().getBytes(), CSE)).isEqualTo(400);
    }
}
