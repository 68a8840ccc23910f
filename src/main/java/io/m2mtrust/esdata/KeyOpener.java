package io.m2mtrust.esdata;

import io.m2mtrust.keysource.KeyResolution;
import io.m2mtrust.keysource.KeySources;
import io.m2mtrust.keysource.KeyUsage;

import java.util.Optional;

/** Key lookups for unprotecting: what {@link JoseEnvelopes} asks while it opens an envelope. */
final class KeyOpener {

    private KeyOpener() {}

    /**
     * Opens keys for an unprotect: a key unknown to the caller is empty (the envelope may name other recipients'
     * keys); a key the caller holds for another usage, or that the policy refuses, is a 403 refusal naming why —
     * never "unknown" (interop profile, errors). Callers run inside a transaction.
     */
    static JoseEnvelopes.KeyLookup of(KeySources keys, String tenantId, String caller, KeyUsage usage) {
        return kid -> {
            KeyResolution r = keys.resolve(tenantId, caller, kid, usage, true);
            if (r.usable()) {
                return Optional.of(r.key());
            }
            if (r.status() == 403) {
                throw new JoseEnvelopes.Refused(JoseEnvelopes.Refused.Reason.POLICY, kid + ": " + r.problem());
            }
            return Optional.empty();
        };
    }
}
