package io.m2mtrust.tenant;

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

    /**
     * MEF and MAF; SAEF is the MAF-based SAEF Entity B endpoint ({@code cse.<tenant>.<base>}), the front of
     * the tenant's CSE (TS-0003 §8.2.2.3).
     */
    public enum Function {
        MEF,
        MAF,
        SAEF
    }

    public record Host(Function function, String tenantId) {}

    private final String base;

    DeviceFqdns(Config config) {
        this.base = config.baseDomain().toLowerCase(Locale.ROOT);
    }

    /** The names under {@code baseDomain}, outside CDI (parsers fed by tests and fuzz targets). */
    public static DeviceFqdns under(String baseDomain) {
        return new DeviceFqdns(() -> baseDomain);
    }

    public String mef(String tenantId) {
        return "mef." + tenantId + "." + base;
    }

    /** The tenant's CSE front: Entity B of the MAF-based SAEF; also its CSE-ID public domain name here. */
    public String cse(String tenantId) {
        return "cse." + tenantId + "." + base;
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
        if (!TenantIds.valid(tenant)) {
            return Optional.empty();
        }
        return switch (fn) {
            case "mef" -> Optional.of(new Host(Function.MEF, tenant));
            case "maf" -> Optional.of(new Host(Function.MAF, tenant));
            case "cse" -> Optional.of(new Host(Function.SAEF, tenant));
            default -> Optional.empty();
        };
    }
}
