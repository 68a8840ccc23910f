package io.m2mtrust.tls;

import io.m2mtrust.tenant.DeviceFqdns;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import org.bouncycastle.tls.TlsServerProtocol;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * One TCP connection: bytes from the socket go into a non-blocking {@link TlsServerProtocol} on the
 * connection's serial worker (never the event loop: the PSK lookup inside {@code offerInput} touches the
 * database and the HSM); TLS output goes back to the socket; decrypted bytes feed the HTTP decoder and
 * each request is answered by the handler of the SNI-selected function.
 */
final class DeviceConnection {

    private static final Logger LOG = Logger.getLogger(DeviceConnection.class);

    private final NetSocket socket;
    private final TlsServerProtocol tls = new TlsServerProtocol();
    private final DeviceTlsServer server;
    private final SerialExecutor serial;
    private final DeviceHttp.Decoder http;
    private final Function<DeviceFqdns.Function, DeviceRequestHandler> handlers;
    private final Runnable onSocketClosed;
    private final Runnable onPause;
    private final java.util.function.BooleanSupplier draining;
    private DevicePeer peer;
    private boolean closed;

    DeviceConnection(
            NetSocket socket,
            DeviceTlsServer server,
            Executor pool,
            DeviceTlsConfig config,
            Function<DeviceFqdns.Function, DeviceRequestHandler> handlers,
            Runnable onSocketClosed,
            Runnable onPause,
            java.util.function.BooleanSupplier draining) {
        this.draining = draining;
        this.onSocketClosed = onSocketClosed;
        this.onPause = onPause;
        this.socket = socket;
        this.server = server;
        this.serial = new SerialExecutor(pool);
        this.http = new DeviceHttp.Decoder(config.maxHeadBytes(), config.maxBodyBytes());
        this.handlers = handlers;
    }

    /**
     * Back-pressure: a peer that sends faster than its worker processes is paused at {@link #PAUSE_AT}
     * queued bytes and resumed below {@link #RESUME_AT}, so one connection can neither grow its queue
     * without bound nor take more than its share of the worker pool.
     */
    static final long PAUSE_AT = 256 * 1024;

    static final long RESUME_AT = 64 * 1024;

    private final java.util.concurrent.atomic.AtomicLong queuedBytes = new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean paused;

    void start() throws IOException {
        tls.accept(server);
        socket.handler(buffer -> {
            byte[] bytes = buffer.getBytes();
            if (queuedBytes.addAndGet(bytes.length) > PAUSE_AT && !paused) {
                paused = true;
                socket.pause();
                onPause.run();
            }
            submit(() -> {
                try {
                    onBytes(bytes);
                } finally {
                    if (queuedBytes.addAndGet(-bytes.length) < RESUME_AT && paused && !closed) {
                        paused = false;
                        socket.resume();
                    }
                }
            });
        });
        socket.closeHandler(v -> {
            onSocketClosed.run();
            submit(this::onClosed);
        });
        socket.exceptionHandler(e -> submit(this::closeQuietly));
    }

    private void submit(Runnable task) {
        try {
            serial.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the worker pool is saturated: shed this connection rather than queue without bound
            LOG.warnf("device listener overloaded: closing %s", socket.remoteAddress());
            closed = true;
            server.destroySecrets();
            socket.close();
        }
    }

    /**
     * The replica is stopping: a connection between requests (handshake done, nothing buffered) ends now with a TLS
     * close_notify; one in the middle of a request ends after its answer ({@link #respond}); one still handshaking
     * ends at its handshake deadline or the drain timeout.
     */
    void drain() {
        submit(() -> {
            if (!closed && server.handshakeComplete() && http.idle()) {
                try {
                    tls.close();
                } catch (IOException e) {
                    LOG.debugf("close_notify to %s failed: %s", socket.remoteAddress(), e.getMessage());
                }
                flushTls();
                closeQuietly();
            }
        });
    }

    /** Closes a connection that is still handshaking (slow or stalled clients). */
    void handshakeDeadline() {
        submit(() -> {
            if (!closed && !server.handshakeComplete()) {
                LOG.debugf("closing %s: handshake not finished in time", socket.remoteAddress());
                closeQuietly();
            }
        });
    }

    private void onBytes(byte[] bytes) {
        if (closed) {
            return;
        }
        try {
            tls.offerInput(bytes);
        } catch (IOException e) {
            // BC has queued the alert (unknown_psk_identity, unrecognized_name, bad_record_mac, decode_error…)
            LOG.debugf("TLS from %s failed: %s", socket.remoteAddress(), e.getMessage());
            flushTls();
            closeQuietly();
            return;
        }
        flushTls();
        if (server.handshakeComplete() && peer == null) {
            CertificateAuthentication.AuthenticatedCertificate cert = server.clientCertificate();
            peer = cert == null
                    ? new DevicePeer(
                            DevicePeer.Transport.TLS,
                            server.host().tenantId(),
                            server.host().function(),
                            server.sniHost(),
                            DevicePeer.Credential.PSK,
                            server.pskIdentity(),
                            null,
                            server::export)
                    : new DevicePeer(
                            DevicePeer.Transport.TLS,
                            server.host().tenantId(),
                            server.host().function(),
                            server.sniHost(),
                            DevicePeer.Credential.CERTIFICATE,
                            cert.identity(),
                            cert.serial(),
                            server::export);
        }
        try {
            int available = tls.getAvailableInputBytes();
            if (available > 0) {
                byte[] plain = new byte[available];
                tls.readInput(plain, 0, available);
                http.feed(plain, 0, available);
                for (DeviceHttp.Request r; (r = http.next()) != null; ) {
                    // while the replica drains, every answer ends its connection (the device reconnects elsewhere)
                    respond(handle(r), draining.getAsBoolean() || "close".equalsIgnoreCase(r.header("connection")));
                    if (closed) {
                        return;
                    }
                }
            }
        } catch (DeviceHttp.BadRequest e) {
            respond(DeviceHttp.Response.error(e.status, e.getMessage()), true);
        }
        if (tls.isClosed()) {
            closeQuietly();
        }
    }

    private DeviceHttp.Response handle(DeviceHttp.Request r) {
        DeviceRequestHandler h = handlers.apply(peer.function());
        try {
            return h.handle(peer, r);
        } catch (RuntimeException e) { // HSM and database outages were answered 503 by the GuardedHandler
            String id = UUID.randomUUID().toString();
            LOG.errorf(e, "[%s] device request %s %s failed", id, r.method(), r.path());
            return DeviceHttp.Response.json(500, Map.of("error", "internal error", "instance", "urn:uuid:" + id));
        }
    }

    private void respond(DeviceHttp.Response response, boolean close) {
        try {
            byte[] out = response.encode(close);
            tls.writeApplicationData(out, 0, out.length);
            if (close) {
                tls.close();
            }
        } catch (IOException e) {
            LOG.debugf("could not answer %s: %s", socket.remoteAddress(), e.getMessage());
        }
        flushTls();
        if (close) {
            closeQuietly();
        }
    }

    private void flushTls() {
        int n = tls.getAvailableOutputBytes();
        if (n > 0) {
            byte[] out = new byte[n];
            tls.readOutput(out, 0, n);
            socket.write(Buffer.buffer(out));
        }
    }

    private void onClosed() {
        closed = true;
        server.destroySecrets();
    }

    private void closeQuietly() {
        server.destroySecrets();
        if (closed) {
            return;
        }
        closed = true;
        socket.close();
    }

    @Override
    public String toString() {
        return "DeviceConnection[" + socket.remoteAddress() + (peer == null ? "" : ", " + peer) + "]";
    }
}
