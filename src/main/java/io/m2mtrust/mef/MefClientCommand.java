package io.m2mtrust.mef;

import io.m2mtrust.tenant.TenantOwned;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;

/** An MEF Client Command queued for a registration (TS-0003 §8.3.9; {@code <mefClientCmd>}). */
@Entity
@Table(name = "mef_client_command")
@IdClass(MefClientCommand.Key.class)
public class MefClientCommand extends TenantOwned {

    public enum State {
        PENDING,
        DONE,
        FAILED,
        CANCELLED
    }

    @Id
    @Column(name = "reg_id")
    public String regId;

    @Id
    @Column(name = "cmd_id")
    public String cmdId;

    /** sec:cmdClassID (TS-0003 §12.3.2.3): 1 CERT_PROV (2 DEV_CFG and 3 MO_NODE are not issued here). */
    @Column(name = "cmd_class", nullable = false)
    public int cmdClass;

    /** cmdArgs as JSON. */
    @Column(name = "cmd_args", nullable = false)
    public String cmdArgs;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public State state;

    @Column(name = "delivered_count", nullable = false)
    public int deliveredCount;

    /** The sec:cmdStatusCode the client reported (§12.3.2.4). */
    @Column(name = "reported_code")
    public Integer reportedCode;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    /** The primary key: the {@code @Id} fields above, in order. */
    public record Key(String tenantId, String regId, String cmdId) implements Serializable {}
}
