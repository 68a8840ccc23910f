package io.m2mtrust.web;

import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.media.Content;
import org.eclipse.microprofile.openapi.models.media.MediaType;
import org.eclipse.microprofile.openapi.models.media.Schema;
import org.eclipse.microprofile.openapi.models.responses.APIResponse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Documents the error answers every operation of the admin API can give (issue 21, found by schemathesis): a
 * {@code default} response of {@code application/problem+json} (RFC 9457, the one shape {@link ProblemMapper} writes),
 * so a client generated from the document knows the shape and a conformance checker can hold the service to it. The
 * oneM2M bindings ({@code /onem2m…}) answer errors as oneM2M does (X-M2M-RSC, a debug body): they get a default
 * response without a problem schema.
 */
public class ProblemResponses implements OASFilter {

    static final String PROBLEM = "Problem";

    @Override
    public void filterOpenAPI(OpenAPI openAPI) {
        if (openAPI.getComponents() == null) {
            openAPI.setComponents(OASFactory.createComponents());
        }
        if (openAPI.getComponents().getSchemas() != null) {
            // Java records answer null for an absent value: every property says so (found by schemathesis)
            openAPI.getComponents().getSchemas().values().forEach(ProblemResponses::nullableProperties);
        }
        openAPI.getComponents().addSchema(PROBLEM, problemSchema());
        if (openAPI.getPaths() == null || openAPI.getPaths().getPathItems() == null) {
            return;
        }
        // the console is HTML for people, not part of the admin API (its forms have their own CSRF and validation)
        List<String> console = new ArrayList<>(openAPI.getPaths().getPathItems().keySet());
        console.removeIf(path -> !path.equals("/console") && !path.startsWith("/console/"));
        console.forEach(openAPI.getPaths()::removePathItem);
        openAPI.getPaths().getPathItems().forEach((path, item) -> {
            Map<?, Operation> operations = item.getOperations();
            if (operations == null) {
                return;
            }
            boolean oneM2M = path.startsWith("/onem2m");
            for (Operation op : operations.values()) {
                if (op.getResponses() == null) {
                    op.setResponses(OASFactory.createAPIResponses());
                }
                if (op.getResponses().getDefaultValue() == null) {
                    op.getResponses().setDefaultValue(oneM2M ? oneM2MError() : problem());
                }
                if (oneM2M) {
                    continue;
                }
                // refused by the HTTP server before any resource runs: no body (found by schemathesis)
                bodiless(op, "414", "The request line is longer than the server reads (4 KiB)");
                // the HTTP layer's challenge has no body; a refused token's 401 is a problem (docs/api.md)
                bodiless(
                        op,
                        "401",
                        "No token (an empty body with WWW-Authenticate: Bearer), or a refused one (problem details"
                                + " saying why)");
                // an operation answering a Response documents one success (200) at most; its 201 with a body or its
                // 204 fall here, not into the error default
                bodiless(op, "2XX", "Done: 201 with the created resource as JSON, or 204");
            }
        });
    }

    /** A response documented by its status and a description only, unless the operation documents it already. */
    private static void bodiless(Operation op, String status, String description) {
        if (op.getResponses().getAPIResponse(status) == null) {
            op.getResponses()
                    .addAPIResponse(status, OASFactory.createAPIResponse().description(description));
        }
    }

    private static void nullableProperties(Schema schema) {
        if (schema.getProperties() == null) {
            return;
        }
        Map<String, Schema> properties = new LinkedHashMap<>(schema.getProperties());
        properties.replaceAll((name, p) -> {
            if (p.getRef() != null) {
                return OASFactory.createSchema()
                        .anyOf(List.of(p, OASFactory.createSchema().addType(Schema.SchemaType.NULL)));
            }
            if (p.getType() != null && !p.getType().contains(Schema.SchemaType.NULL)) {
                p.addType(Schema.SchemaType.NULL);
            }
            return p;
        });
        schema.setProperties(properties);
    }

    private static APIResponse problem() {
        Schema ref = OASFactory.createSchema().ref("#/components/schemas/" + PROBLEM);
        Content content = OASFactory.createContent()
                .addMediaType(
                        "application/problem+json", OASFactory.createMediaType().schema(ref));
        return OASFactory.createAPIResponse()
                .description("An error, as RFC 9457 problem details (docs/api.md, \"Errors\"); 401 without a token"
                        + " has no body")
                .content(content);
    }

    private static APIResponse oneM2MError() {
        MediaType any = OASFactory.createMediaType().schema(OASFactory.createSchema());
        return OASFactory.createAPIResponse()
                .description("A oneM2M error: the status in X-M2M-RSC, a debug text in the body (TS-0009)")
                .content(OASFactory.createContent().addMediaType("application/json", any));
    }

    private static Schema problemSchema() {
        Schema string = OASFactory.createSchema().addType(Schema.SchemaType.STRING);
        Schema error = OASFactory.createSchema()
                .addType(Schema.SchemaType.OBJECT)
                .addProperty("field", string)
                .addProperty("message", string);
        return OASFactory.createSchema()
                .addType(Schema.SchemaType.OBJECT)
                .description("RFC 9457 problem details")
                .required(List.of("type", "title", "status"))
                .addProperty("type", string)
                .addProperty("title", string)
                .addProperty("status", OASFactory.createSchema().addType(Schema.SchemaType.INTEGER))
                .addProperty("detail", string)
                .addProperty("instance", string)
                .addProperty(
                        "errors",
                        OASFactory.createSchema()
                                .addType(Schema.SchemaType.ARRAY)
                                .items(error));
    }
}
