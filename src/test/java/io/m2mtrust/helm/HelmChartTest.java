package io.m2mtrust.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * helm lint and helm template (helm-java, the real Helm library) on the chart, with assertions on the manifests; the
 * manifests of the default values and of each example values file are validated offline against the Kubernetes API
 * schemas and the CRDs they use ({@code src/bin/lib/validate_k8s.py}, set up by {@code src/bin/lib/kubevalidate.sh}).
 */
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
        // the JDK's PKCS#11 wrapper is opened for ECDH and HSM recovery (a manifest attribute does not survive Quarkus)
        assertThat(y)
                .containsPattern("name: JDK_JAVA_OPTIONS\\s+value: \"--add-opens=jdk.crypto.cryptoki/"
                        + "sun.security.pkcs11.wrapper=ALL-UNNAMED "
                        + "--add-opens=jdk.crypto.cryptoki/sun.security.pkcs11=ALL-UNNAMED\"");
        assertThat(y).contains("name: device-tls").contains("containerPort: 8443");
        // CoAP over DTLS: a UDP container port, Service port and NetworkPolicy rule, on by default and switchable
        assertThat(y)
                .contains("name: device-dtls")
                .contains("containerPort: 5684")
                .contains("protocol: UDP")
                .contains("name: M2M_DEVICE_DTLS_ENABLED");
    }

    @Test
    void dtls_can_be_switched_off_and_then_no_udp_port_is_opened() {
        String y = template().set("deviceService.dtls.enabled", false).call();
        assertThat(y).doesNotContain("device-dtls").doesNotContain("containerPort: 5684");
        assertThat(y).containsPattern("name: M2M_DEVICE_DTLS_ENABLED\\s+value: \"false\"");
    }

    @Test
    void a_cse_reached_over_coap_gets_a_udp_egress_rule() {
        String plain = template().call();
        assertThat(plain).doesNotContainPattern("port: 5683\\s+protocol: UDP");
        String y = template().set("networkPolicy.egress.cse.udpPorts[0]", 5683).call();
        assertThat(y)
                .containsPattern("# cse\\s+- ports:\\s+- port: 8080\\s+protocol: TCP\\s+- port: 443\\s+protocol: TCP"
                        + "\\s+- port: 5683\\s+protocol: UDP");
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

    static final String KUBE_VERSION = "1.30.0";

    /** The rendered manifests validated as kubeconform would: strict API schemas, CRD schemas for custom kinds. */
    static String validate(String manifests) throws IOException, InterruptedException {
        String python = System.getenv("M2M_KUBE_VALIDATE_PYTHON");
        String crds = System.getenv("M2M_KUBE_CRDS");
        assertThat(python)
                .as("run through src/bin/test, which sets up the offline schema validator")
                .isNotBlank();
        Process p = new ProcessBuilder(python, "src/bin/lib/validate_k8s.py", KUBE_VERSION, crds)
                .redirectErrorStream(true)
                .start();
        p.getOutputStream().write(manifests.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void every_example_values_file_renders_manifests_that_the_kubernetes_schemas_accept() throws Exception {
        String defaults = validate(template().withName("trust").call());
        assertThat(defaults).contains("valid Deployment/trust-m2m-trust", "valid NetworkPolicy/trust-m2m-trust");
        for (String example : List.of("minimal", "production", "cloudnativepg")) {
            String y = template()
                    .withName("trust")
                    .withNamespace("iot")
                    .withValuesFile(Path.of("helm/examples/" + example + ".yaml"))
                    .call();
            String out = validate(y);
            assertThat(out).as(example).doesNotContain("INVALID").contains("valid Deployment/trust-m2m-trust");
        }
    }

    @Test
    void the_validator_refuses_what_kubernetes_would_refuse() {
        // the check can fail: an unknown field and a wrong type are caught, in core kinds and in custom resources
        String bad = """
                apiVersion: v1
                kind: Service
                metadata: {name: x}
                spec: {ports: [{port: 80, targetPortt: http}]}
                ---
                apiVersion: postgresql.cnpg.io/v1
                kind: Cluster
                metadata: {name: db}
                spec: {instances: three}
                """;
        assertThatThrownBy(() -> validate(bad))
                .hasMessageContaining("INVALID Service/x")
                .hasMessageContaining("INVALID Cluster/db");
    }

    @Test
    void production_values_give_autoscaling_disruption_budget_spread_network_policies_and_monitoring()
            throws Exception {
        String y = template()
                .withName("trust")
                .withValuesFile(Path.of("helm/examples/production.yaml"))
                .call();
        assertThat(y)
                .contains("kind: HorizontalPodAutoscaler")
                .contains("minReplicas: 3")
                .contains("maxReplicas: 12")
                .contains("kind: PodDisruptionBudget")
                .contains("maxUnavailable: 1")
                .contains("topologySpreadConstraints:")
                .contains("topologyKey: topology.kubernetes.io/zone")
                .contains("whenUnsatisfiable: DoNotSchedule")
                .contains("kind: ServiceMonitor")
                .contains("path: /q/metrics");
        // the HPA owns the replica count
        assertThat(y).doesNotContainPattern("kind: Deployment[\\s\\S]*?\\n  replicas:");
        // the oneM2M paths reach one replica per originator (ADR 0024)
        assertThat(y).contains("kind: Ingress").contains("upstream-hash-by: $http_x_m2m_origin");
        // the device listener: TLS passes through a LoadBalancer, limited to the operator's ranges
        assertThat(y)
                .contains("name: trust-m2m-trust-device")
                .contains("type: LoadBalancer")
                .contains("externalTrafficPolicy: Local")
                .contains("- 203.0.113.0/24");
        // only the HTTP and device ports in; PostgreSQL, the HSM, Keycloak, the CSE and DNS out
        assertThat(y)
                .contains("kind: NetworkPolicy")
                .contains("- Egress")
                .contains("cidr: 10.20.30.0/28")
                .contains("port: 2223")
                .contains("kubernetes.io/metadata.name: ingress-nginx")
                .contains("name: trust-m2m-trust-cse-only-from-proxy")
                .contains("app.kubernetes.io/name: acme-cse");
        // the stop: readiness delay 5 + HTTP drain 20 + device drain 10 + 5
        assertThat(y)
                .contains("terminationGracePeriodSeconds: 40")
                .contains("name: M2M_SHUTDOWN_DELAY")
                .contains("value: \"5s\"")
                .contains("name: M2M_DEVICE_DRAIN_TIMEOUT")
                .containsPattern("name: M2M_CLUSTER_REPLICA_ID\\s+valueFrom:\\s+fieldRef:\\s+fieldPath: metadata.name");
        assertThat(y).doesNotContain("kind: Secret");
    }

    @Test
    void cloudnativepg_mode_renders_a_cluster_and_reads_the_credentials_it_creates() throws Exception {
        String y = template()
                .withName("trust")
                .withValuesFile(Path.of("helm/examples/cloudnativepg.yaml"))
                .call();
        assertThat(y)
                .contains("kind: Cluster")
                .contains("apiVersion: postgresql.cnpg.io/v1")
                .contains("name: trust-m2m-trust-db")
                .contains("instances: 3")
                .contains("value: \"jdbc:postgresql://trust-m2m-trust-db-rw:5432/m2mtrust\"")
                .containsPattern("name: M2M_DB_PASSWORD\\s+valueFrom:\\s+secretKeyRef:\\s+name: trust-m2m-trust-db-app")
                .contains("cnpg.io/cluster: trust-m2m-trust-db");
        String external = template().withName("trust").call();
        assertThat(external).doesNotContain("kind: Cluster").contains("jdbc:postgresql://postgresql:5432/m2mtrust");
    }

    @Test
    void the_schema_refuses_bad_cluster_values_with_the_field_named() {
        assertThatThrownBy(() -> template().set("postgresql.mode", "mysql").call())
                .hasMessageContaining("/postgresql/mode");
        assertThatThrownBy(() -> template().set("shutdown.delaySeconds", -1).call())
                .hasMessageContaining("/shutdown/delaySeconds");
        assertThatThrownBy(() -> template().set("deviceService.nodePort", 80).call())
                .hasMessageContaining("nodePort");
        assertThatThrownBy(
                        () -> template().set("networkPolicy.cse.enabled", true).call())
                .hasMessageContaining("podSelector");
        assertThatThrownBy(() -> template()
                        .set("autoscaling.enabled", true)
                        .set("autoscaling.maxReplicas", "many")
                        .call())
                .hasMessageContaining("maxReplicas");
        assertThatThrownBy(() -> template().set("replicaCount", 0).call()).hasMessageContaining("replicaCount");
    }
}
