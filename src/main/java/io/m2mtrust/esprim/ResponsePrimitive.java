package io.m2mtrust.esprim;

/**
 * A oneM2M response primitive (TS-0004 §7.2.1.2): the response status code as a number (a CSE may answer codes this
 * service does not list), the Request Identifier it answers, To (the request's From), the Release Version Indicator
 * and content.
 */
public record ResponsePrimitive(int rsc, String requestId, String to, String releaseVersion, Object content) {

    /** The answer to {@code request} with {@code rsc} and {@code content}. */
    public static ResponsePrimitive answering(RequestPrimitive request, int rsc, Object content) {
        return new ResponsePrimitive(rsc, request.requestId(), request.from(), request.releaseVersion(), content);
    }
}
