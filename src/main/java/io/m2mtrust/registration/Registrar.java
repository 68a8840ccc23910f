package io.m2mtrust.registration;

import io.m2mtrust.tenant.DeviceFqdns;

import java.util.Set;

/**
 * The two functions that run the generic client/key registration procedures: the MEF (TS-0003
 * §8.3.5.2, keys provisioned via an RSPF: SUIDs 22–25) and the MAF (§8.8.2, MAF-distributed keys:
 * SUIDs 32–35). Field names on the wire carry the function's prefix (mefClientRegId / mafClientRegId).
 */
public enum Registrar {
    MEF("mef", "mcr-", Set.of(22, 23, 24, 25), DeviceFqdns.Function.MEF),
    MAF("maf", "acr-", Set.of(32, 33, 34, 35), DeviceFqdns.Function.MAF);

    private final String prefix;
    private final String regIdPrefix;
    private final Set<Integer> suids;
    private final DeviceFqdns.Function function;

    Registrar(String prefix, String regIdPrefix, Set<Integer> suids, DeviceFqdns.Function function) {
        this.prefix = prefix;
        this.regIdPrefix = regIdPrefix;
        this.suids = suids;
        this.function = function;
    }

    /** "mef" or "maf": field-name prefix and audit action prefix. */
    public String prefix() {
        return prefix;
    }

    String regIdPrefix() {
        return regIdPrefix;
    }

    /** SUIDs of the keys this function distributes (TS-0004 m2m:suid). */
    public Set<Integer> suids() {
        return suids;
    }

    /** SAEF and ESPrim keys name exactly one target (§8.3.5.2.7 / §8.8.2.7 step 3). */
    boolean singleTarget(int suid) {
        return suid == 22 || suid == 23 || suid == 32 || suid == 33;
    }

    public DeviceFqdns.Function function() {
        return function;
    }

    public String fqdn(DeviceFqdns fqdns, String tenantId) {
        return this == MEF ? fqdns.mef(tenantId) : fqdns.maf(tenantId);
    }
}
