package io.m2mtrust.testsupport;

import io.m2mtrust.devstack.KeycloakServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTestProfile;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A Quarkus boot whose OIDC is the real Keycloak distribution with the repo's realm. */
public class RealKeycloakProfile implements QuarkusTestProfile {

    public static volatile KeycloakServer keycloak;
    /** Where the console of this boot listens (the port its Keycloak client may redirect to). */
    public static volatile String consoleUrl;
    /** Between m2m-trust's Keycloak admin client and Keycloak: a test cuts it to stop Keycloak for m2m-trust alone. */
    public static volatile CuttableTcpProxy adminPath;
    /** Where Keycloak e-mails invitations. */
    public static volatile MailSink mail;

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(Resource.class));
    }

    @Override
    public String getConfigProfile() {
        return "test";
    }

    public static class Resource implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            Path javaHome = KeycloakServer.javaHome().orElse(null);
            if (javaHome == null) {
                // No skip: the real-Keycloak test is part of the suite. Say exactly what is missing.
                throw new IllegalStateException(
                        "Keycloak " + System.getProperty("m2m.keycloak.version")
                                + " needs Java 21+; install a Temurin 21+ JDK under /usr/lib/jvm or set M2M_KEYCLOAK_JAVA_HOME");
            }
            try {
                keycloak = KeycloakServer.start(
                        Path.of("target/keycloak"),
                        javaHome,
                        Path.of(System.getProperty("m2m.keycloak.zip")),
                        System.getProperty("m2m.keycloak.version"));
            } catch (Exception e) {
                throw new IllegalStateException("real Keycloak did not start: " + e.getMessage(), e);
            }
            // the console signs in through this Keycloak too: a fixed port its client may redirect to
            int port;
            try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
                port = s.getLocalPort();
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
            try {
                keycloak.allowConsoleAt("http://localhost:" + port);
            } catch (Exception e) {
                throw new IllegalStateException("could not register the console's redirect URI: " + e.getMessage(), e);
            }
            consoleUrl = "http://localhost:" + port;
            try {
                mail = new MailSink();
                keycloak.useSmtp("127.0.0.1", mail.port());
                adminPath = new CuttableTcpProxy("localhost", keycloak.port());
            } catch (Exception e) {
                throw new IllegalStateException("could not set up Keycloak's mail or admin path: " + e.getMessage(), e);
            }
            return Map.of(
                    "quarkus.oidc.auth-server-url",
                    keycloak.realmUrl(),
                    "quarkus.oidc.token.issuer",
                    keycloak.realmUrl(),
                    "quarkus.oidc.console.tenant-enabled",
                    "true",
                    "quarkus.oidc.console.auth-server-url",
                    keycloak.realmUrl(),
                    "quarkus.http.test-port",
                    Integer.toString(port),
                    // tenant onboarding against this Keycloak, through a path a test can cut
                    "m2m.identity.provisioning",
                    "keycloak",
                    "quarkus.keycloak.admin-client.server-url",
                    "http://localhost:" + adminPath.port(),
                    "quarkus.keycloak.admin-client.client-secret",
                    keycloak.provisionerSecret());
        }

        @Override
        public void stop() {
            if (keycloak != null) {
                keycloak.close();
            }
            if (mail != null) {
                mail.close();
            }
            if (adminPath != null) {
                try {
                    adminPath.close();
                } catch (java.io.IOException ignored) {
                    // closing anyway
                }
            }
        }
    }
}
