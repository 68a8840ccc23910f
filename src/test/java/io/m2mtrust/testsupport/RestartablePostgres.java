package io.m2mtrust.testsupport;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;

/**
 * An embedded PostgreSQL with the service's database {@code m2mtrust}, whose data directory and port survive its own
 * stop: a test stops it under load and starts it again (a database restart), and the services keep their JDBC URL.
 */
public final class RestartablePostgres implements AutoCloseable {

    private final Path dataDirectory;
    private final int port;
    private EmbeddedPostgres pg;

    private RestartablePostgres(Path dataDirectory, int port) {
        this.dataDirectory = dataDirectory;
        this.port = port;
    }

    /** A fresh data directory (what was there is deleted), a free port, the database created. */
    public static RestartablePostgres start(Path dataDirectory) throws IOException, SQLException {
        deleteRecursively(dataDirectory);
        RestartablePostgres r = new RestartablePostgres(dataDirectory, PackagedService.freePort());
        r.startAgain();
        try (Connection c = r.pg.getPostgresDatabase().getConnection();
                Statement s = c.createStatement()) {
            s.execute("create database m2mtrust");
        }
        return r;
    }

    /** The running server (its JDBC URLs and data sources). */
    public EmbeddedPostgres current() {
        return pg;
    }

    /** A connection to the service's database. */
    public Connection connect() throws SQLException {
        return pg.getDatabase("postgres", "m2mtrust").getConnection();
    }

    /** A fast shutdown: open connections are terminated mid-statement. */
    public void stop() throws IOException {
        pg.close();
    }

    /** Starts it again on the same data directory and port. */
    public void startAgain() throws IOException {
        pg = EmbeddedPostgres.builder()
                .setDataDirectory(dataDirectory)
                .setCleanDataDirectory(false)
                .setPort(port)
                .start();
    }

    @Override
    public void close() throws IOException {
        pg.close();
        deleteRecursively(dataDirectory);
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
