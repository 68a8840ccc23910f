package io.m2mtrust.ca;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.m2mtrust.common.CertificateSubject;
import io.m2mtrust.common.SubjectType;

import java.util.Base64;

/**
 * Fuzz target for EST bodies (issue 21): a PKCS#10 CSR (DER, sent base64 as RFC 7030 §4.2.1 has it) checked against the
 * identity its session may have and the session's channel binding. The contract: {@link CsrCheck.Refused} with an HTTP
 * status, or an accepted P-256 key — never another exception. The seeds are CSRs made by {@code openssl req}.
 */
class CsrInputFuzzTest {

    static final CertificateSubject SUBJECT = new CertificateSubject(SubjectType.CSE_ID, "d-1.in.example");
    static final byte[] BINDING = new byte[32]; // the seeds' challengePassword is its base64

    @FuzzTest(maxDuration = "30s")
    void csrs_are_accepted_or_get_a_typed_refusal(byte[] der) {
        try {
            CsrCheck.Accepted accepted = CsrCheck.check(Base64.getEncoder().encode(der), SUBJECT, BINDING);
            assertThat(accepted.publicKey().getAlgorithm()).isEqualTo("EC");
        } catch (CsrCheck.Refused refused) {
            assertThat(refused.status()).isBetween(400, 499);
        }
    }
}
