package io.m2mtrust.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A TCP relay for one TLS 1.2 connection that stops a handshake half-way: the client's first flight (ClientHello) and
 * the server's answer (up to ServerHelloDone) pass, then the client's second flight (for PSK suites: the
 * ClientKeyExchange with the PSK identity, RFC 4279 §2) is held until {@link #release()}. A test changes the world in
 * between (takes the HSM away) and sees what the server does with the rest of the handshake.
 */
public final class FlightHoldingRelay implements AutoCloseable {

    private final ServerSocket server;
    private final int targetPort;
    private final CountDownLatch held = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);
    private volatile Socket client;
    private volatile Socket upstream;

    public FlightHoldingRelay(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket(0);
        Thread t = new Thread(this::relay, "flight-holding-relay");
        t.setDaemon(true);
        t.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Waits until the server's first flight has reached the client, the client's second flight now being held. */
    public void awaitHeld(Duration within) throws InterruptedException {
        if (!held.await(within.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the handshake did not reach its second flight");
        }
    }

    /** Lets the client's second flight (and everything after it) through. */
    public void release() {
        released.countDown();
    }

    private void relay() {
        try {
            client = server.accept();
            upstream = new Socket("127.0.0.1", targetPort);
            Thread toServer = new Thread(
                    () -> {
                        try {
                            InputStream in = client.getInputStream();
                            OutputStream out = upstream.getOutputStream();
                            out.write(TlsFlights.untilHandshakeMessage(in, 1)); // ClientHello
                            out.flush();
                            released.await();
                            in.transferTo(out);
                        } catch (IOException | InterruptedException closed) {
                            // either side went away
                        } finally {
                            closeQuietly();
                        }
                    },
                    "flight-holding-relay-up");
            toServer.setDaemon(true);
            toServer.start();
            InputStream in = upstream.getInputStream();
            OutputStream out = client.getOutputStream();
            out.write(TlsFlights.untilHandshakeMessage(in, 14)); // up to ServerHelloDone
            out.flush();
            held.countDown();
            in.transferTo(out);
        } catch (IOException closed) {
            // either side went away
        } finally {
            closeQuietly();
        }
    }

    private void closeQuietly() {
        for (Socket s : new Socket[] {client, upstream}) {
            if (s != null) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        released.countDown();
        closeQuietly();
        server.close();
    }
}
