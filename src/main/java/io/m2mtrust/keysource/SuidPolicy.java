package io.m2mtrust.keysource;

import io.m2mtrust.policy.PolicyService;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Arrays;

/** The tenant policy's allowed SUIDs, as every key source checks them before answering a key. */
@ApplicationScoped
public class SuidPolicy {

    private final PolicyService policies;

    SuidPolicy(PolicyService policies) {
        this.policies = policies;
    }

    public boolean allows(String tenantId, int suid) {
        return Arrays.asList(policies.current(tenantId).allowedSuids).contains(suid);
    }
}
