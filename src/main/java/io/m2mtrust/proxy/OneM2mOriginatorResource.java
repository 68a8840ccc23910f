package io.m2mtrust.proxy;

import jakarta.ws.rs.BeanParam;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Response;
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

    /** The binding's request, and the remote receiver it goes to. */
    public static class Originated extends OneM2mProxyResource.Binding {
        @PathParam("remote")
        String remote;

        Response send(ProxyService proxy, String method, byte[] body) {
            ProxyService.Incoming in = incoming(method, body);
            return OneM2mProxyResource.toResponse(proxy.originate(tenant, remote, in), in.header("X-M2M-RI"));
        }
    }

    @GET
    @Operation(summary = "Retrieve on a remote receiver through ESPrim (the proxy originates)")
    public Response get(@BeanParam Originated r) {
        return r.send(proxy, "GET", null);
    }

    @POST
    @Consumes("*/*")
    @Operation(summary = "Create or Notify on a remote receiver through ESPrim (the proxy originates)")
    public Response post(@BeanParam Originated r, byte[] body) {
        return r.send(proxy, "POST", body);
    }

    @PUT
    @Consumes("*/*")
    @Operation(summary = "Update on a remote receiver through ESPrim (the proxy originates)")
    public Response put(@BeanParam Originated r, byte[] body) {
        return r.send(proxy, "PUT", body);
    }

    @DELETE
    @Operation(summary = "Delete on a remote receiver through ESPrim (the proxy originates)")
    public Response delete(@BeanParam Originated r) {
        return r.send(proxy, "DELETE", null);
    }
}
