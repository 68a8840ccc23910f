package io.m2mtrust.tls;

import io.m2mtrust.common.SecretBytes;
import io.m2mtrust.tenant.DeviceFqdns;

import java.util.Optional;

/** Finds the PSK of an identity for one tenant and function; empty means {@code unknown_psk_identity}. */
public interface PskResolver {

    DeviceFqdns.Function function();

    Optional<SecretBytes> resolve(String tenantId, String identity);
}
