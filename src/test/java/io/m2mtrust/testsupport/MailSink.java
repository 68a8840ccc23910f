package io.m2mtrust.testsupport;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetup;
import jakarta.mail.Message;
import jakarta.mail.internet.MimeMessage;

import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A real SMTP server (GreenMail) in the test JVM that Keycloak sends its e-mails to. */
public final class MailSink implements AutoCloseable {

    private static final Pattern ACTION_LINK =
            Pattern.compile("https?://[^\\s\"'<>]+/login-actions/action-token\\?[^\\s\"'<>]+");

    private final GreenMail mail;

    public MailSink() {
        ServerSetup smtp = new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP).dynamicPort();
        mail = new GreenMail(smtp);
        mail.start();
    }

    public int port() {
        return mail.getSmtp().getPort();
    }

    /** The newest message to {@code address} received within {@code wait}, if any. */
    public Optional<MimeMessage> awaitTo(String address, Duration wait) throws Exception {
        long end = System.nanoTime() + wait.toNanos();
        do {
            Optional<MimeMessage> m = Arrays.stream(mail.getReceivedMessages())
                    .filter(x -> isTo(x, address))
                    .reduce((a, b) -> b);
            if (m.isPresent()) {
                return m;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < end);
        return Optional.empty();
    }

    public int countTo(String address) {
        return (int) Arrays.stream(mail.getReceivedMessages())
                .filter(x -> isTo(x, address))
                .count();
    }

    /** The Keycloak action link (set a password) in a message. */
    public static String actionLink(MimeMessage m) {
        String body = GreenMailUtil.getBody(m)
                .replace("=\r\n", "")
                .replace("=3D", "=")
                .replace("&amp;", "&");
        Matcher x = ACTION_LINK.matcher(body);
        if (!x.find()) {
            throw new AssertionError("no Keycloak action link in the e-mail");
        }
        return x.group();
    }

    private static boolean isTo(MimeMessage m, String address) {
        try {
            return Arrays.stream(m.getRecipients(Message.RecipientType.TO))
                    .anyMatch(a -> a.toString().contains(address));
        } catch (Exception e) {
            return false;
        }
    }

    @Override
    public void close() {
        mail.stop();
    }
}
