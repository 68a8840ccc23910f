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
                throw new IllegalStateException("Keycloak " + System.getProperty("m2m.keycloak.version")
                        + " needs Java 21+; install a Temurin 21+ JDK under /usr/lib/jvm or set M2M_KEYCLOAK_JAVA_HOME");
            }
            try {
                keycloak = KeycloakServer.start(Path.of("target/keycloak"), javaHome,
                        Path.of(System.getProperty("m2m.keycloak.zip")), System.getProperty("m2m.keycloak.version"));
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
            return Map.of("quarkus.oidc.auth-server-url", keycloak.realmUrl(),
                    "quarkus.oidc.token.issuer", keycloak.realmUrl(),
                    "quarkus.oidc.console.tenant-enabled", "true",
                    "quarkus.oidc.console.auth-server-url", keycloak.realmUrl(),
                    "quarkus.http.test-port", Integer.toString(port));
        }

        @Override
        public void stop() {
            if (keycloak != null) {
                keycloak.close();
            }
        }
    }
}
