package io.m2mtrust.testsupport;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.oidc.server.OidcWiremockTestResource;

/**
 * Declares the resources every @QuarkusTest shares (one Quarkus boot for all classes of the default
 * profile): a real embedded PostgreSQL and the WireMock OIDC server. The SoftHSM2 token comes from src/bin/test.
 */
@QuarkusTestResource(PostgresResource.class)
@QuarkusTestResource(OidcWiremockTestResource.class)
public final class GlobalTestResources {
    private GlobalTestResources() {}
}
