package io.m2mtrust.enrolment;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Locale;
import java.util.Optional;

/**
 * Per-tenant FQDNs of the device-facing functions: {@code mef.<tenant>.<base-domain>} (and later
 * {@code maf.…}). They are the SNI host names that select the tenant and they end every KeID/KmID.
 */
@ApplicationScoped
public class DeviceFqdns {

    @ConfigMapping(prefix = "m2m.device-fqdn")
    public interface Config {
        /** DNS suffix under which every tenant's MEF and MAF live. */
        @WithDefault("m2m-trust.local")
        String baseDomain();
    }

    public enum Function { MEF, MAF }

    public record Host(Function function, String tenantId) {
    }

    private final String base;

    DeviceFqdns(Config config) {
        this.base = config.baseDomain().toLowerCase(Locale.ROOT);
    }

    public String mef(String tenantId) {
        return "mef." + tenantId + "." + base;
    }

    public String maf(String tenantId) {
        return "maf." + tenantId + "." + base;
    }

    /** Which function and tenant an SNI host name names; empty for anything else. */
    public Optional<Host> parse(String sniHost) {
        if (sniHost == null) {
            return Optional.empty();
        }
        String h = sniHost.toLowerCase(Locale.ROOT);
        String suffix = "." + base;
        if (!h.endsWith(suffix)) {
            return Optional.empty();
        }
        String head = h.substring(0, h.length() - suffix.length());
        int dot = head.indexOf('.');
        if (dot < 0) {
            return Optional.empty();
        }
        String fn = head.substring(0, dot);
        String tenant = head.substring(dot + 1);
        if (!io.m2mtrust.tenant.TenantIds.valid(tenant)) {
            return Optional.empty();
        }
        return switch (fn) {
            case "mef" -> Optional.of(new Host(Function.MEF, tenant));
            case "maf" -> Optional.of(new Host(Function.MAF, tenant));
            default -> Optional.empty();
        };
    }
}
