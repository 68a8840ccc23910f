package io.m2mtrust.tls;

import io.m2mtrust.tenant.DeviceFqdns;

/** A function served on the device TLS listener (the MEF now, the MAF later), chosen by the SNI host. */
public interface DeviceRequestHandler {

    DeviceFqdns.Function function();

    /** Handles one request of an authenticated peer; runs on the connection's worker thread. */
    DeviceHttp.Response handle(DevicePeer peer, DeviceHttp.Request request);
}
