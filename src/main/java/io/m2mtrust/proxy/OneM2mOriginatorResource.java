package io.m2mtrust.proxy;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Where legacy entities behind the proxy send plain primitives for a remote ESPrim receiver:
 * {@code /onem2m-out/<tenant>/<remote name>/<path on the remote CSE>}; the proxy is the ESPrim originator.
 */
@Path("/onem2m-out/{tenant}/{remote}/{path: .+}")
@Tag(name = "oneM2M proxy")
public class OneM2mOriginatorResource {

    private final ProxyService proxy;

    OneM2mOriginatorResource(ProxyService proxy) {
        this.proxy = proxy;
    }

    @GET
    @Operation(summary = "Retrieve on a remote receiver through ESPrim (the proxy originates)")
    public Response get(
            @PathParam("tenant") String t,
            @PathParam("remote") String remote,
            @PathParam("path") String path,
            @Context HttpHeaders h,
            @Context UriInfo uri) {
        return OneM2mProxyResource.toResponse(
                proxy.originate(t, remote, OneM2mProxyResource.incoming("GET", path, h, uri, null)));
    }

    @POST
    @Consumes("*/*")
    @Operation(summary = "Create or Notify on a remote receiver through ESPrim (the proxy originates)")
    public Response post(
            @PathParam("tenant") String t,
            @PathParam("remote") String remote,
            @PathParam("path") String path,
            @Context HttpHeaders h,
            @Context UriInfo uri,
            byte[] body) {
        return OneM2mProxyResource.toResponse(
                proxy.originate(t, remote, OneM2mProxyResource.incoming("POST", path, h, uri, body)));
    }

    @PUT
    @Consumes("*/*")
    @Operation(summary = "Update on a remote receiver through ESPrim (the proxy originates)")
    public Response put(
            @PathParam("tenant") String t,
            @PathParam("remote") String remote,
            @PathParam("path") String path,
            @Context HttpHeaders h,
            @Context UriInfo uri,
            byte[] body) {
        return OneM2mProxyResource.toResponse(
                proxy.originate(t, remote, OneM2mProxyResource.incoming("PUT", path, h, uri, body)));
    }

    @DELETE
    @Operation(summary = "Delete on a remote receiver through ESPrim (the proxy originates)")
    public Response delete(
            @PathParam("tenant") String t,
            @PathParam("remote") String remote,
            @PathParam("path") String path,
            @Context HttpHeaders h,
            @Context UriInfo uri) {
        return OneM2mProxyResource.toResponse(
                proxy.originate(t, remote, OneM2mProxyResource.incoming("DELETE", path, h, uri, null)));
    }
}
