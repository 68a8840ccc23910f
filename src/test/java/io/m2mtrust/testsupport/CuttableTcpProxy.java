package io.m2mtrust.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A plain TCP forwarder in front of a real server that a test can cut, at once or when the client sends a given
 * request line: from the client's side the server has stopped (open connections reset, new ones closed at once).
 * This is how a test stops the real Keycloak half-way through a tenant creation without stopping it for the other
 * tests of the same boot.
 */
public final class CuttableTcpProxy implements AutoCloseable {

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicReference<String> cutOn = new AtomicReference<>();
    private volatile boolean down;

    public CuttableTcpProxy(String host, int port) throws IOException {
        this.target = new InetSocketAddress(host, port);
        this.server = new ServerSocket(0);
        Thread t = new Thread(this::acceptLoop, "cuttable-proxy-" + server.getLocalPort());
        t.setDaemon(true);
        t.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Stops forwarding now: open connections are closed, new ones refused. */
    public void cut() {
        down = true;
        for (Socket s : open) {
            closeQuietly(s);
        }
        open.clear();
    }

    /** Forwards until a client sends bytes containing {@code marker} (never delivered), then {@link #cut()}s. */
    public void cutWhenClientSends(String marker) {
        cutOn.set(marker);
    }

    public void restore() {
        cutOn.set(null);
        down = false;
    }

    public boolean isCut() {
        return down;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                if (down) {
                    closeQuietly(client);
                    continue;
                }
                Socket upstream = new Socket();
                upstream.connect(target, 5000);
                open.add(client);
                open.add(upstream);
                pump(client, upstream, true);
                pump(upstream, client, false);
            } catch (IOException e) {
                if (server.isClosed()) {
                    return;
                }
            }
        }
    }

    private void pump(Socket from, Socket to, boolean fromClient) {
        Thread t = new Thread(
                () -> {
                    byte[] buf = new byte[16384];
                    StringBuilder tail = new StringBuilder();
                    try (InputStream in = from.getInputStream();
                            OutputStream out = to.getOutputStream()) {
                        for (int n; (n = in.read(buf)) > 0; ) {
                            String marker = cutOn.get();
                            if (fromClient && marker != null) {
                                tail.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                                if (tail.indexOf(marker) >= 0) {
                                    cut();
                                    return;
                                }
                                if (tail.length() > 4 * marker.length()) {
                                    tail.delete(0, tail.length() - marker.length());
                                }
                            }
                            if (down) {
                                return;
                            }
                            out.write(buf, 0, n);
                            out.flush();
                        }
                    } catch (IOException closed) {
                        // either side went away
                    } finally {
                        closeQuietly(from);
                        closeQuietly(to);
                        open.remove(from);
                        open.remove(to);
                    }
                },
                "cuttable-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        cut();
        server.close();
    }
}
