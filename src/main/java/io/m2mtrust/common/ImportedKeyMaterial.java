package io.m2mtrust.common;

import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;

/**
 * Key material an admin imports (a Kpm, a pre-provisioned key), as it arrives: base64 in a JSON field. Decoding
 * and the length check happen here once; a refusal is a field error that never echoes the value, and refused
 * bytes are wiped before the error leaves.
 */
public final class ImportedKeyMaterial {

    private ImportedKeyMaterial() {}

    /**
     * The decoded key, owned by the caller (close it); null after adding a field error to {@code errors} when
     * {@code base64} is not base64 or its length in bytes fails {@code lengthAllowed} ({@code lengths} says what
     * is allowed).
     */
    public static SecretBytes decode(
            String base64, String field, IntPredicate lengthAllowed, String lengths, List<Map<String, String>> errors) {
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            errors.add(ApiProblem.fieldError(field, "not base64"));
            return null;
        }
        if (!lengthAllowed.test(raw.length)) {
            Arrays.fill(raw, (byte) 0);
            errors.add(ApiProblem.fieldError(field, "must be " + lengths));
            return null;
        }
        return SecretBytes.adopt(raw);
    }
}
