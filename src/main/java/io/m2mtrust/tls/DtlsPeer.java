package io.m2mtrust.tls;

import io.m2mtrust.tenant.DeviceFqdns;

/**
 * Who a DTLS handshake authenticated, carried on the session's principal (Scandium's "additional info"): the tenant
 * and function, the SNI host (null when the device sent none), how the peer authenticated and its identity — the
 * psk_identity, or the subjectAltName identity of its certificate with the certificate's serial (hex).
 */
record DtlsPeer(
        DeviceFqdns.Host host,
        String sniHost,
        DevicePeer.Credential credential,
        String identity,
        String certificateSerial) {

    static final String KEY = "m2m.dtls.peer";

    static DtlsPeer psk(DeviceFqdns.Host host, String sniHost, String pskIdentity) {
        return new DtlsPeer(host, sniHost, DevicePeer.Credential.PSK, pskIdentity, null);
    }

    static DtlsPeer certificate(DeviceFqdns.Host host, String sniHost, String identity, String serial) {
        return new DtlsPeer(host, sniHost, DevicePeer.Credential.CERTIFICATE, identity, serial);
    }
}
