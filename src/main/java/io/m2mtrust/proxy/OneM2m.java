package io.m2mtrust.proxy;

import java.util.Map;

/** oneM2M primitive vocabulary the proxy needs: operations, and the HTTP status of a response status code (TS-0009 §6.6). */
final class OneM2m {

    static final int CREATE = 1;
    static final int RETRIEVE = 2;
    static final int UPDATE = 3;
    static final int DELETE = 4;
    static final int NOTIFY = 5;

    private static final Map<Integer, Integer> STATUS = Map.ofEntries(
            Map.entry(2000, 200),
            Map.entry(2001, 201),
            Map.entry(2002, 200),
            Map.entry(2004, 200),
            Map.entry(4000, 400),
            Map.entry(4004, 404),
            Map.entry(4005, 405),
            Map.entry(4008, 408),
            Map.entry(4015, 415),
            Map.entry(4102, 400),
            Map.entry(4103, 403),
            Map.entry(4105, 409),
            Map.entry(4106, 403),
            Map.entry(4107, 403),
            Map.entry(5000, 500),
            Map.entry(5001, 501),
            Map.entry(5103, 404),
            Map.entry(5105, 403),
            Map.entry(5106, 409),
            Map.entry(5107, 404),
            Map.entry(5210, 500),
            Map.entry(5211, 500));

    private OneM2m() {}

    static int httpStatus(int rsc) {
        Integer s = STATUS.get(rsc);
        if (s != null) {
            return s;
        }
        if (rsc >= 4111 && rsc <= 4116) {
            return 403;
        }
        return rsc < 3000 ? 200 : rsc < 5000 ? 400 : 500;
    }

    static String method(int op) {
        return switch (op) {
            case CREATE, NOTIFY -> "POST";
            case RETRIEVE -> "GET";
            case UPDATE -> "PUT";
            case DELETE -> "DELETE";
            default -> throw new IllegalArgumentException("op " + op);
        };
    }
}
