package io.m2mtrust.common;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The oneM2M response status codes this service answers (TS-0004 §6.6.3) and the HTTP status of each in the HTTP
 * binding (TS-0009 §6.6). Codes a CSE answers that are not listed here are relayed as numbers; {@link
 * #httpStatusOf(int)} maps those by class.
 */
public enum ResponseStatusCode {
    OK(2000, 200),
    CREATED(2001, 201),
    DELETED(2002, 200),
    UPDATED(2004, 200),
    BAD_REQUEST(4000, 400),
    NOT_FOUND(4004, 404),
    OPERATION_NOT_ALLOWED(4005, 405),
    REQUEST_TIMEOUT(4008, 408),
    UNSUPPORTED_MEDIA_TYPE(4015, 415),
    CONTENTS_UNACCEPTABLE(4102, 400),
    ORIGINATOR_HAS_NO_PRIVILEGE(4103, 403),
    CONFLICT(4105, 409),
    ORIGINATOR_NOT_AUTHENTICATED(4106, 403),
    SECURITY_ASSOCIATION_REQUIRED(4107, 403),
    ESPRIM_UNSUPPORTED_OPTION(4111, 403),
    ESPRIM_UNKNOWN_KEY_ID(4112, 403),
    ESPRIM_UNKNOWN_ORIG_RAND_ID(4113, 403),
    ESPRIM_UNKNOWN_RECV_RAND_ID(4114, 403),
    ESPRIM_BAD_MAC(4115, 403),
    ESPRIM_IMPERSONATION_ERROR(4116, 403),
    INTERNAL_SERVER_ERROR(5000, 500),
    NOT_IMPLEMENTED(5001, 501),
    TARGET_NOT_REACHABLE(5103, 404),
    RECEIVER_HAS_NO_PRIVILEGE(5105, 403),
    ALREADY_EXISTS(5106, 409),
    REMOTE_ENTITY_NOT_REACHABLE(5107, 404),
    NOT_ACCEPTABLE(5207, 500),
    ESPRIM_DECRYPTION_ERROR(5210, 500),
    ESPRIM_ENCRYPTION_ERROR(5211, 500);

    private static final Map<Integer, ResponseStatusCode> BY_CODE =
            Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(c -> c.code, Function.identity()));

    private final int code;
    private final int httpStatus;

    ResponseStatusCode(int code, int httpStatus) {
        this.code = code;
        this.httpStatus = httpStatus;
    }

    /** The number on the wire ({@code rsc}, {@code X-M2M-RSC}). */
    public int code() {
        return code;
    }

    public int httpStatus() {
        return httpStatus;
    }

    public boolean successful() {
        return code >= 2000 && code < 3000;
    }

    public static Optional<ResponseStatusCode> of(int code) {
        return Optional.ofNullable(BY_CODE.get(code));
    }

    /** The HTTP status for any code: a listed one's, else by class (2xxx 200, 4xxx 400, 5xxx and others 500). */
    public static int httpStatusOf(int code) {
        ResponseStatusCode c = BY_CODE.get(code);
        if (c != null) {
            return c.httpStatus;
        }
        return code < 3000 ? 200 : code < 5000 ? 400 : 500;
    }
}
