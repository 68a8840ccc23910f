package io.m2mtrust.console;

import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import io.quarkus.qute.TemplateInstance;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/** Where Keycloak sends the browser after signing out of the console (public: nothing of a tenant on it). */
@Path("/console-signed-out")
public class SignedOutResource {

    @Location("console/signed-out.html")
    Template page;

    @GET
    @Produces(MediaType.TEXT_HTML)
    public TemplateInstance get() {
        return page.instance();
    }
}
