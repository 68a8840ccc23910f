package io.m2mtrust.mef;

import io.m2mtrust.keysource.KeyIds;
import io.m2mtrust.keysource.KeyResolution;
import io.m2mtrust.keysource.KeyUsage;
import io.m2mtrust.keysource.SymmetricKeySource;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;

/**
 * {@code fetchCredentials} keys ({@code <KeID>/24}, {@code /25}, {@code /23}): the TS-0003 §10.3.7 key the caller,
 * a registered Enrolment Target, would fetch for that KeID and SUID. One HMAC-SHA256 output, used whole.
 */
@ApplicationScoped
class FetchedKeySource implements SymmetricKeySource {

    private final CredentialFetchService fetches;

    FetchedKeySource(CredentialFetchService fetches) {
        this.fetches = fetches;
    }

    @Override
    public Family family() {
        return Family.FETCHED;
    }

    @Override
    public boolean holds(String tenantId, String kid) {
        return KeyIds.FETCHED.matcher(kid).matches();
    }

    @Override
    public int order() {
        return 10;
    }

    @Override
    public Optional<KeyResolution> resolve(String tenantId, String caller, String kid, KeyUsage usage, boolean open) {
        Matcher m = KeyIds.FETCHED.matcher(kid);
        if (!m.matches()) {
            return Optional.empty();
        }
        int suid = Integer.parseInt(m.group(2));
        if (suid != usage.mefSuid()) {
            return Optional.of(KeyResolution.forbidden(
                    kid,
                    "a fetchCredentials key for SUID " + suid + " is not an ESData " + usage.word() + " key (SUID "
                            + usage.mefSuid() + ")"));
        }
        CredentialFetchService.Outcome o = fetches.derive(tenantId, caller, m.group(1), suid, open);
        if (o instanceof CredentialFetchService.Refused r) {
            // not a target, or no live enrolment: indistinguishable from an unknown key; SUID rules are said
            return Optional.of(
                    r.status() == 403 && r.errorString().contains("SUID")
                            ? KeyResolution.forbidden(kid, r.errorString())
                            : KeyResolution.unknown(kid, "unknown or expired key"));
        }
        CredentialFetchService.Fetched f = (CredentialFetchService.Fetched) o;
        return Optional.of(KeyResolution.usable(kid, f.credential(), suid, f.lifetime(), 32, List.of(f.enroleeId())));
    }
}
