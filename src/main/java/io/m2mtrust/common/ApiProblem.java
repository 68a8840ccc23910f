package io.m2mtrust.common;

import java.util.List;
import java.util.Map;

/**
 * An error the admin API answers as RFC 9457 problem details. {@code type} is a stable URN that
 * clients can switch on; {@code detail} is for humans and never contains key material.
 */
public class ApiProblem extends RuntimeException {

    private final int status;
    private final String type;
    private final String title;
    private final List<Map<String, String>> errors;

    public ApiProblem(int status, String type, String title, String detail) {
        this(status, type, title, detail, List.of());
    }

    public ApiProblem(int status, String type, String title, String detail, List<Map<String, String>> errors) {
        super(detail, null, false, false);
        this.status = status;
        this.type = "urn:m2m-trust:problem:" + type;
        this.title = title;
        this.errors = errors;
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String title() {
        return title;
    }

    public String detail() {
        return getMessage();
    }

    public List<Map<String, String>> errors() {
        return errors;
    }

    public static ApiProblem notFound(String what) {
        return new ApiProblem(404, "not-found", "Not Found", what + " does not exist");
    }

    public static ApiProblem forbidden(String detail) {
        return new ApiProblem(403, "forbidden", "Forbidden", detail);
    }

    public static ApiProblem conflict(String detail) {
        return new ApiProblem(409, "conflict", "Conflict", detail);
    }

    public static ApiProblem gone(String detail) {
        return new ApiProblem(410, "gone", "Gone", detail);
    }

    public static ApiProblem badRequest(String type, String detail) {
        return new ApiProblem(400, type, "Bad Request", detail);
    }

    public static ApiProblem invalid(List<Map<String, String>> errors) {
        return new ApiProblem(400, "validation", "Invalid request", "one or more fields are invalid", errors);
    }

    public static ApiProblem preconditionFailed(String detail) {
        return new ApiProblem(412, "precondition-failed", "Precondition Failed", detail);
    }

    public static ApiProblem preconditionRequired() {
        return new ApiProblem(
                428,
                "precondition-required",
                "Precondition Required",
                "send If-Match with the ETag from your last GET");
    }

    public static Map<String, String> fieldError(String field, String message) {
        return Map.of("field", field, "message", message);
    }
}
