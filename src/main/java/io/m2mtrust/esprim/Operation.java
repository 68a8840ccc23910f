package io.m2mtrust.esprim;

import java.util.Optional;

/** oneM2M operations (TS-0004 m2m:operation) and their methods in the HTTP binding (TS-0009 §6.2). */
public enum Operation {
    CREATE(1, "POST"),
    RETRIEVE(2, "GET"),
    UPDATE(3, "PUT"),
    DELETE(4, "DELETE"),
    NOTIFY(5, "POST");

    private final int code;
    private final String httpMethod;

    Operation(int code, String httpMethod) {
        this.code = code;
        this.httpMethod = httpMethod;
    }

    /** {@code op} on the wire. */
    public int code() {
        return code;
    }

    public String httpMethod() {
        return httpMethod;
    }

    /** Whether the primitive carries content to the target (Create, Update, Notify). */
    public boolean carriesContent() {
        return this == CREATE || this == UPDATE || this == NOTIFY;
    }

    public static Optional<Operation> of(int code) {
        for (Operation o : values()) {
            if (o.code == code) {
                return Optional.of(o);
            }
        }
        return Optional.empty();
    }
}
