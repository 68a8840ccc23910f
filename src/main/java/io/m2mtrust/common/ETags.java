package io.m2mtrust.common;

import jakarta.ws.rs.core.EntityTag;

/** Optimistic locking over HTTP: the ETag is the row version; writes need a matching If-Match. */
public final class ETags {

    private ETags() {}

    public static EntityTag of(long version) {
        return new EntityTag("v" + version);
    }

    /** 428 without If-Match, 412 when it names another version. */
    public static void requireMatch(String ifMatch, long currentVersion) {
        if (ifMatch == null || ifMatch.isBlank()) {
            throw ApiProblem.preconditionRequired();
        }
        String expected = "\"v" + currentVersion + "\"";
        for (String candidate : ifMatch.split(",")) {
            String c = candidate.strip();
            if (c.startsWith("W/")) {
                c = c.substring(2);
            }
            if (c.equals(expected) || c.equals("*")) {
                return;
            }
        }
        throw ApiProblem.preconditionFailed(
                "If-Match " + sanitize(ifMatch) + " does not match the current version; GET it again");
    }

    private static String sanitize(String s) {
        String t = s.length() > 40 ? s.substring(0, 40) + "…" : s;
        return t.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
