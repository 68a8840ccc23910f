package io.m2mtrust.esprim;

/**
 * A oneM2M request primitive (TS-0004 §7.2.1.1): operation, To, From, Request Identifier, Release Version Indicator,
 * resource type (Create only) and content. {@code content} is the parsed JSON of {@code pc}, or null. {@link
 * PrimitiveCodec} is its one mapping to and from JSON short names.
 */
public record RequestPrimitive(
        Operation operation,
        String to,
        String from,
        String requestId,
        String releaseVersion,
        Integer resourceType,
        Object content) {

    /** Release 3 when the originator said nothing (TS-0004 §6.4.1 rvi). */
    public static final String DEFAULT_RELEASE = "3";

    public RequestPrimitive {
        releaseVersion = releaseVersion == null ? DEFAULT_RELEASE : releaseVersion;
    }
}
