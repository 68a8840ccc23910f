package io.m2mtrust.esprim;

import io.m2mtrust.common.ResponseStatusCode;

/**
 * An ESPrim refusal with its oneM2M response status code (TS-0004 table 7.6.2-1; HTTP per TS-0009):
 * 4000 the ESPrim object cannot be parsed, 4111 unsupported option, 4112 unknown key id, 4113 unknown
 * originator rand id, 4114 unknown receiver rand id, 4115 bad MAC, 4116 impersonation, 5210 decryption
 * error, 5211 encryption error. The message never carries key material.
 */
public final class EsprimError extends Exception {

    public static final int BAD_REQUEST = ResponseStatusCode.BAD_REQUEST.code();
    public static final int UNSUPPORTED_OPTION = ResponseStatusCode.ESPRIM_UNSUPPORTED_OPTION.code();
    public static final int UNKNOWN_KEY_ID = ResponseStatusCode.ESPRIM_UNKNOWN_KEY_ID.code();
    public static final int UNKNOWN_ORIG_RAND_ID = ResponseStatusCode.ESPRIM_UNKNOWN_ORIG_RAND_ID.code();
    public static final int UNKNOWN_RECV_RAND_ID = ResponseStatusCode.ESPRIM_UNKNOWN_RECV_RAND_ID.code();
    public static final int BAD_MAC = ResponseStatusCode.ESPRIM_BAD_MAC.code();
    public static final int IMPERSONATION = ResponseStatusCode.ESPRIM_IMPERSONATION_ERROR.code();
    public static final int DECRYPTION_ERROR = ResponseStatusCode.ESPRIM_DECRYPTION_ERROR.code();
    public static final int ENCRYPTION_ERROR = ResponseStatusCode.ESPRIM_ENCRYPTION_ERROR.code();

    public final int rsc;

    public EsprimError(int rsc, String message) {
        super(message, null, false, false);
        this.rsc = rsc;
    }

    /** The HTTP status of the binding (TS-0009): 4000 → 400, 41xx → 403, 52xx → 500. */
    public int httpStatus() {
        return rsc == BAD_REQUEST ? 400 : rsc >= 5000 ? 500 : 403;
    }
}
