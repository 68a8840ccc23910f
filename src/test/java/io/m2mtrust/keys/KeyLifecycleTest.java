package io.m2mtrust.keys;

import static io.m2mtrust.testsupport.Api.as;
import static io.m2mtrust.testsupport.Api.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.hsm.SealedBlobRejectedException;
import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.Tokens;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.List;

@QuarkusTest
class KeyLifecycleTest {

    static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes();

    @Inject
    KeySealer sealer;

    @Test
    void a_new_tenant_has_one_primary_version_per_purpose() {
        Api.createTenant("keys-list");
        Response r = as(Tokens.auditor("keys-list")).get("/api/v1/tenants/keys-list/keys");
        assertThat(r.jsonPath().getList("purpose")).containsExactlyInAnyOrder("kek", "derive", "sign");
        assertThat(r.jsonPath().getList("state")).containsOnly("PRIMARY");
        assertThat(r.jsonPath().getList("presentInHsm")).containsOnly(true);
        assertThat(r.asString()).doesNotContain("publicKey").doesNotContain("value");
    }

    @Test
    void kek_rotation_keeps_old_blobs_opening_until_the_old_version_is_retired() {
        String t = Api.createTenant("keys-rotate");
        KeySealer.SealContext ctx = new KeySealer.SealContext(t, "key-1", "test");
        byte[] blobV1 = QuarkusTransaction.requiringNew().call(() -> sealer.seal(ctx, SecretBytes.copyOf(KEY)));

        Response rot = as(Tokens.tenantAdmin(t)).post("/api/v1/tenants/" + t + "/keys/kek/rotate");
        assertThat(rot.statusCode()).as(rot.asString()).isEqualTo(200);
        assertThat(rot.jsonPath().getInt("version")).isEqualTo(2);
        assertThat(rot.jsonPath().getString("state")).isEqualTo("PRIMARY");

        byte[] blobV2 = QuarkusTransaction.requiringNew().call(() -> sealer.seal(ctx, SecretBytes.copyOf(KEY)));
        assertThat(blobV2[4]).as("sealed under v2").isEqualTo((byte) 2);
        QuarkusTransaction.requiringNew().run(() -> {
            assertThat(sealer.open(ctx, blobV1).copy()).isEqualTo(KEY);
            assertThat(sealer.open(ctx, blobV2).copy()).isEqualTo(KEY);
        });

        assertProblem(
                as(Tokens.tenantAdmin(t)).post("/api/v1/tenants/" + t + "/keys/kek/versions/2/retire"),
                409,
                "conflict");
        Response ret = as(Tokens.tenantAdmin(t)).post("/api/v1/tenants/" + t + "/keys/kek/versions/1/retire");
        assertThat(ret.jsonPath().getString("state")).isEqualTo("RETIRED");
        assertProblem(
                as(Tokens.tenantAdmin(t)).post("/api/v1/tenants/" + t + "/keys/kek/versions/1/retire"),
                409,
                "conflict");
        QuarkusTransaction.requiringNew().run(() -> {
            assertThatThrownBy(() -> sealer.open(ctx, blobV1)).isInstanceOf(SealedBlobRejectedException.class);
            assertThat(sealer.open(ctx, blobV2).copy()).isEqualTo(KEY);
        });
        Response audit = as(Tokens.auditor(t)).get("/api/v1/tenants/" + t + "/audit");
        List<String> trail = new java.util.ArrayList<>();
        for (int i = 4; i < audit.jsonPath().getList("seq").size(); i++) {
            trail.add(audit.jsonPath().getString("[" + i + "].action") + ":"
                    + audit.jsonPath().getString("[" + i + "].outcome"));
        }
        // rotate, refused retire of the primary, retire, refused second retire
        assertThat(trail)
                .containsExactly(
                        "key.rotate:SUCCESS", "key.retire:FAILURE", "key.retire:SUCCESS", "key.retire:FAILURE");
    }

    @Test
    void sealed_blobs_are_bound_to_tenant_key_id_and_purpose() {
        String a = Api.createTenant("keys-bind-a");
        String b = Api.createTenant("keys-bind-b");
        KeySealer.SealContext ctx = new KeySealer.SealContext(a, "k", "p");
        byte[] blob = QuarkusTransaction.requiringNew().call(() -> sealer.seal(ctx, SecretBytes.copyOf(KEY)));
        QuarkusTransaction.requiringNew().run(() -> {
            assertThatThrownBy(() -> sealer.open(new KeySealer.SealContext(a, "other", "p"), blob))
                    .isInstanceOf(SealedBlobRejectedException.class);
            assertThatThrownBy(() -> sealer.open(new KeySealer.SealContext(a, "k", "other"), blob))
                    .isInstanceOf(SealedBlobRejectedException.class);
            assertThatThrownBy(() -> sealer.open(new KeySealer.SealContext(b, "k", "p"), blob))
                    .isInstanceOf(SealedBlobRejectedException.class);
            byte[] truncated = java.util.Arrays.copyOf(blob, 20);
            assertThatThrownBy(() -> sealer.open(ctx, truncated)).isInstanceOf(SealedBlobRejectedException.class);
            byte[] flipped = blob.clone();
            flipped[flipped.length - 1] ^= 1;
            assertThatThrownBy(() -> sealer.open(ctx, flipped)).isInstanceOf(SealedBlobRejectedException.class);
        });
    }

    @Test
    void sign_rotation_keeps_the_audit_chain_verifiable() {
        String t = Api.createTenant("keys-sign-rot");
        as(Tokens.tenantAdmin(t))
                .post("/api/v1/tenants/" + t + "/keys/sign/rotate")
                .then()
                .statusCode(200);
        Response v = as(Tokens.auditor(t)).get("/api/v1/tenants/" + t + "/audit/verify");
        assertThat(v.jsonPath().getBoolean("intact")).isTrue();
        assertThat(v.jsonPath().getString("headSignedBy")).isEqualTo("m2m/" + t + "/sign/v2");
    }

    @Test
    void invalid_purpose_or_unknown_version_is_a_clear_error() {
        String t = Api.createTenant("keys-bad");
        assertProblem(
                as(Tokens.tenantAdmin(t)).post("/api/v1/tenants/" + t + "/keys/master/rotate"),
                400,
                "invalid-key-purpose");
        assertProblem(
                as(Tokens.tenantAdmin(t)).post("/api/v1/tenants/" + t + "/keys/kek/versions/42/retire"),
                404,
                "not-found");
        assertThat(as(Tokens.tenantAdmin(t))
                        .post("/api/v1/tenants/" + t + "/keys/kek/versions/abc/retire")
                        .statusCode())
                .isEqualTo(404);
    }
}
