package io.m2mtrust.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads whole TLS 1.2 flights from a socket (RFC 5246 §6.2 records), so a test can carry what a real OpenSSL
 * writes into ESCertKE messages: the ClientHello flight, the server's first flight (up to ServerHelloDone), and a
 * finishing flight (up to the first record after ChangeCipherSpec, the encrypted Finished).
 */
public final class TlsFlights {

    private TlsFlights() {}

    static final int HANDSHAKE = 22;
    static final int CHANGE_CIPHER_SPEC = 20;

    private static byte[] record(DataInputStream in) throws IOException {
        byte[] header = new byte[5];
        in.readFully(header);
        int length = ((header[3] & 0xff) << 8) | (header[4] & 0xff);
        if (length > 18_432) {
            throw new IOException("not a TLS record (length " + length + ")");
        }
        byte[] r = new byte[5 + length];
        System.arraycopy(header, 0, r, 0, 5);
        in.readFully(r, 5, length);
        return r;
    }

    /** Records until a plaintext handshake message of {@code lastType} has been read whole (1 ClientHello, 14 ServerHelloDone). */
    public static byte[] untilHandshakeMessage(InputStream raw, int lastType) throws IOException {
        DataInputStream in = new DataInputStream(raw);
        ByteArrayOutputStream flight = new ByteArrayOutputStream();
        ByteArrayOutputStream handshake = new ByteArrayOutputStream();
        while (true) {
            byte[] r = record(in);
            flight.writeBytes(r);
            if (r[0] != HANDSHAKE) {
                continue; // e.g. an alert: the caller sees it in the flight
            }
            handshake.write(r, 5, r.length - 5);
            byte[] h = handshake.toByteArray();
            int at = 0;
            while (at + 4 <= h.length) {
                int type = h[at] & 0xff;
                int len = ((h[at + 1] & 0xff) << 16) | ((h[at + 2] & 0xff) << 8) | (h[at + 3] & 0xff);
                if (at + 4 + len > h.length) {
                    break;
                }
                if (type == lastType) {
                    return flight.toByteArray();
                }
                at += 4 + len;
            }
        }
    }

    /** Records up to and including the first one after ChangeCipherSpec (the encrypted Finished). */
    public static byte[] untilFinished(InputStream raw) throws IOException {
        DataInputStream in = new DataInputStream(raw);
        ByteArrayOutputStream flight = new ByteArrayOutputStream();
        boolean afterCcs = false;
        while (true) {
            byte[] r = record(in);
            flight.writeBytes(r);
            if (afterCcs) {
                return flight.toByteArray();
            }
            if (r[0] == CHANGE_CIPHER_SPEC) {
                afterCcs = true;
            }
            if (r[0] == 21) {
                return flight.toByteArray(); // an alert ends the flight
            }
        }
    }

    /** A handshake record whose first message is a ClientHello. */
    public static boolean isClientHello(byte[] records) {
        return records.length >= 6 && records[0] == HANDSHAKE && records[5] == 1;
    }
}
