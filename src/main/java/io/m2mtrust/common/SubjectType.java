package io.m2mtrust.common;

import org.bouncycastle.asn1.x509.GeneralName;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Certificate flavours the tenant CA issues (TS-0003 §10.1.1.5–§10.1.1.8) and how each puts its
 * identity in subjectAltName. TS-0003 fixes the content, not the GeneralName choice; the interop
 * profile fixes: CSE-ID (its public domain name, TS-0001 §6.5.1.1) and FQDN as {@code dNSName};
 * AE-ID (its full URI) and Node-ID (a URN such as {@code urn:oid:…}) as {@code uniformResourceIdentifier}.
 * No flavour allows wildcards.
 */
public enum SubjectType {
    NODE_ID(GeneralName.uniformResourceIdentifier, 1),
    CSE_ID(GeneralName.dNSName, 2),
    AE_ID(GeneralName.uniformResourceIdentifier, 3),
    FQDN(GeneralName.dNSName, 0);

    /** Lowercase host name with at least two labels, no wildcard, no trailing dot. */
    static final Pattern DNS =
            Pattern.compile("(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?");
    /** An absolute URI with authority ({@code scheme://host/...}), printable ASCII, no wildcard. */
    static final Pattern URI_WITH_HOST = Pattern.compile(
            "[a-z][a-z0-9+.-]{0,15}://([a-z0-9.-]{1,253})(:[0-9]{1,5})?(/[A-Za-z0-9._~!$&'()+,;=:@%/-]*)?");
    /** A URN ({@code urn:<nid>:<nss>}), printable ASCII, no wildcard. */
    static final Pattern URN = Pattern.compile(
            "urn:[a-z0-9][a-z0-9-]{0,31}:[A-Za-z0-9()+,\\-.:=@;$_!'%/]{1,250}", Pattern.CASE_INSENSITIVE);

    private final int generalNameTag;
    private final int certSubjectType;

    SubjectType(int generalNameTag, int certSubjectType) {
        this.generalNameTag = generalNameTag;
        this.certSubjectType = certSubjectType;
    }

    /** The GeneralName choice (RFC 5280 §4.2.1.6) of this flavour's identity. */
    public int generalNameTag() {
        return generalNameTag;
    }

    /** {@code sec:certSubjectType} of CERT_PROV arguments (TS-0003 §8.3.9.7): 1 Node-ID, 2 CSE-ID, 3 AE-ID; 0 for FQDN. */
    public int certSubjectType() {
        return certSubjectType;
    }

    /** Null when {@code id} is a valid identity of this flavour, else why not. */
    public String problemWith(String id) {
        if (id == null || id.isEmpty() || id.length() > 300) {
            return "identity must be 1-300 characters";
        }
        if (id.contains("*")) {
            return "wildcards are not allowed (TS-0003 §10.1.1)";
        }
        return switch (this) {
            case FQDN, CSE_ID -> DNS.matcher(id).matches() ? null : "not a lowercase DNS name";
            case AE_ID -> {
                var m = URI_WITH_HOST.matcher(id);
                yield m.matches() && DNS.matcher(m.group(1)).matches()
                        ? null
                        : "not an absolute URI with a host name (the AE-ID's full URI)";
            }
            case NODE_ID -> URN.matcher(id).matches() ? null : "not a URN (e.g. urn:oid:1.2.3 or urn:dev:mac:…)";
        };
    }

    public GeneralName generalName(String id) {
        return new GeneralName(generalNameTag, id);
    }

    public static SubjectType parse(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    /** {@link #parse} of an admin's {@code subjectType} field: a 400 field error when it names no type. */
    public static SubjectType parseField(String s) {
        try {
            return parse(s);
        } catch (IllegalArgumentException e) {
            throw ApiProblem.invalid(
                    List.of(ApiProblem.fieldError("subjectType", "one of NODE_ID, CSE_ID, AE_ID, FQDN")));
        }
    }
}
