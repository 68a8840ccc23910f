package io.m2mtrust.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

/** helm lint and helm template (helm-java, the real Helm library) on the chart, with assertions on the manifests. */
class HelmChartTest {

    static final Helm CHART = new Helm(Path.of("helm"));

    static com.marcnuri.helm.TemplateCommand template() {
        return CHART.template().withKubeVersion("1.30.0");
    }

    @Test
    void chart_lints_clean_in_strict_mode() {
        LintResult r = CHART.lint().strict().call();
        assertThat(r.isFailed()).as(String.join("\n", r.getMessages())).isFalse();
    }

    @Test
    void rendered_deployment_is_non_root_read_only_with_probes_and_resources() {
        String y = template().withName("trust").withNamespace("iot").call();
        assertThat(y).contains("kind: Deployment").contains("kind: Service").contains("kind: ConfigMap");
        assertThat(y)
                .contains("runAsNonRoot: true")
                .contains("readOnlyRootFilesystem: true")
                .contains("allowPrivilegeEscalation: false")
                .contains("- ALL")
                .contains("type: RuntimeDefault");
        assertThat(y)
                .contains("path: /q/health/ready")
                .contains("path: /q/health/live")
                .contains("path: /q/health/started");
        assertThat(y).contains("requests:").contains("limits:").contains("memory: 1536Mi");
        assertThat(y).contains("automountServiceAccountToken: false");
        assertThat(y).contains("name: device-tls").contains("containerPort: 8443");
    }

    @Test
    void secrets_are_referenced_never_inlined() {
        String y = template()
                .withName("trust")
                .set("hsm.pinSecret.name", "vault-hsm-pin")
                .set("database.passwordSecret.name", "db-creds")
                .call();
        assertThat(y).doesNotContain("kind: Secret");
        assertThat(y).contains("secretName: vault-hsm-pin").contains("name: db-creds");
        // the PIN is a mounted file, not an environment value; the DB password comes from a secretKeyRef
        assertThat(y).contains("name: M2M_HSM_PIN_FILE").doesNotContain("name: M2M_HSM_PIN\n");
        assertThat(y).containsPattern("name: M2M_DB_PASSWORD\\s+valueFrom:\\s+secretKeyRef:");
        assertThat(y).contains("defaultMode: 0400"); // the PIN file is readable by the service user only
    }

    @Test
    void the_console_client_and_its_shared_session_secret_come_from_values_and_a_secret() {
        String plain = template().withName("trust").call();
        assertThat(plain)
                .contains("name: QUARKUS_OIDC_CONSOLE_CLIENT_ID")
                .contains("value: \"m2m-trust-console\"")
                .doesNotContain("QUARKUS_OIDC_CONSOLE_TOKEN_STATE_MANAGER_ENCRYPTION_SECRET");
        String shared = template()
                .withName("trust")
                .set("oidc.consoleSessionSecret.name", "console-session")
                .set("oidc.consoleSessionSecret.key", "secret")
                .call();
        assertThat(shared)
                .contains("name: QUARKUS_OIDC_CONSOLE_TOKEN_STATE_MANAGER_ENCRYPTION_SECRET")
                .contains("name: console-session");
    }

    @Test
    void keycloak_provisioning_takes_its_client_secret_from_a_secret_and_can_be_turned_off() {
        String y = template()
                .withName("trust")
                .set("identity.keycloakUrl", "https://sso.operator.example")
                .set("identity.provisionerSecret.name", "kc-provisioner")
                .call();
        assertThat(y)
                .contains("name: M2M_IDENTITY_PROVISIONING")
                .contains("value: \"keycloak\"")
                .contains("value: \"https://sso.operator.example\"")
                .contains("name: kc-provisioner")
                .containsPattern("name: M2M_KEYCLOAK_PROVISIONER_SECRET\\s+valueFrom:\\s+secretKeyRef:");
        String off = template()
                .withName("trust")
                .set("identity.provisioning", "off")
                .set("identity.provisionerSecret", "null")
                .call();
        assertThat(off).contains("value: \"off\"").doesNotContain("M2M_KEYCLOAK_PROVISIONER_SECRET");
        // provisioning through Keycloak without a secret to authenticate with is refused by the schema
        assertThatThrownBy(() ->
                        template().set("identity.provisionerSecret", "null").call())
                .hasMessageContaining("provisionerSecret");
        assertThatThrownBy(() ->
                        template().set("identity.provisioning", "sometimes").call())
                .hasMessageContaining("provisioning");
    }

    @Test
    void pkcs11_config_is_mounted_from_a_configmap_and_selected_by_path() {
        String y = template()
                .withName("trust")
                .set(
                        "hsm.pkcs11Config",
                        "name = luna\nlibrary = /usr/safenet/lunaclient/lib/libCryptoki2_64.so\nslot = 1\n")
                .call();
        assertThat(y).contains("library = /usr/safenet/lunaclient/lib/libCryptoki2_64.so");
        assertThat(y).contains("value: /etc/m2m-trust/hsm/pkcs11.cfg").contains("mountPath: /etc/m2m-trust/hsm");
        assertThat(y).contains("checksum/pkcs11-config:");
    }

    @Test
    void schema_rejects_a_root_container_an_unknown_value_and_a_pin_in_extra_env() {
        assertThatThrownBy(() ->
                        template().set("podSecurityContext.runAsNonRoot", false).call())
                .hasMessageContaining("runAsNonRoot");
        assertThatThrownBy(() -> template().set("hsmPin", "1234").call()).hasMessageContaining("hsmPin");
        assertThatThrownBy(() -> template()
                        .set("hsm.extraEnv[0].name", "HSM_PIN")
                        .set("hsm.extraEnv[0].value", "1234")
                        .call())
                .hasMessageContaining("extraEnv");
        assertThatThrownBy(() -> template().set("database.url", "mysql://db").call())
                .hasMessageContaining("database");
    }
}
