package io.m2mtrust.proxy;

import io.m2mtrust.tls.CborJson;
import io.m2mtrust.tls.CoapDatagramParser;
import io.m2mtrust.tls.CoapDeviceBridge;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.IntegerOptionDefinition;
import org.eclipse.californium.core.coap.option.MapBasedOptionRegistry;
import org.eclipse.californium.core.coap.option.OptionDefinition;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.eclipse.californium.core.coap.option.StandardOptionRegistry;
import org.eclipse.californium.core.coap.option.StringOptionDefinition;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.Exchange;
import org.eclipse.californium.core.server.MessageDeliverer;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The proxy's oneM2M CoAP binding (TS-0008): the same proxy as the HTTP binding ({@link ProxyService}: pass-through,
 * ESPrim receiver, ESData, protected entities), reached over CoAP. A request to {@code /onem2m/<tenant>/<path>}
 * carries the primitive's parameters in oneM2M options (From, Request Identifier, release version, resource type, …);
 * they become the HTTP binding's {@code X-M2M-*} headers, the proxy answers, and the answer goes back with the
 * oneM2M-RSC and oneM2M-RQI options and the CoAP code of its status. The CSE behind stays on HTTP (binding
 * translation, or CoAP where its URL is {@code coap://}). {@code /onem2m-out/<tenant>/<remote>/<path>} is the originator
 * role: a legacy entity's plain primitive, sent to the remote receiver as ESPrim. Option numbers are TS-0008's (as
 * the ACME CSE registers them).
 */
@ApplicationScoped
public class ProxyCoapBinding {

    private static final Logger LOG = Logger.getLogger(ProxyCoapBinding.class);

    /** {@code m2m.proxy-coap.*}: the CoAP binding's UDP endpoint. */
    @ConfigMapping(prefix = "m2m.proxy-coap")
    public interface Config {
        /** Off by default: plain CoAP carries no transport security, only ESPrim's end-to-end protection. */
        @WithDefault("false")
        boolean enabled();

        @WithDefault("0.0.0.0")
        String host();

        /** 5683 is CoAP (RFC 7252 §12.6); 0 picks a free port (tests). */
        @WithDefault("5683")
        int port();

        /** Largest request body, also assembled from blocks. */
        @WithDefault("65536")
        int maxBodyBytes();
    }

    /** TS-0008 oneM2M CoAP options (number, name, X-M2M header of the HTTP binding). */
    record OneM2mOption(OptionDefinition definition, String header) {}

    static final StringOptionDefinition FR = new StringOptionDefinition(279, "oneM2M-FR", true);
    static final StringOptionDefinition RQI = new StringOptionDefinition(283, "oneM2M-RQI", true);
    static final IntegerOptionDefinition TY = new IntegerOptionDefinition(267, "oneM2M-TY", true);
    static final IntegerOptionDefinition RSC = new IntegerOptionDefinition(307, "oneM2M-RSC", true);
    static final StringOptionDefinition RVI = new StringOptionDefinition(271, "oneM2M-RVI", true);

    static final List<OneM2mOption> OPTIONS = List.of(
            new OneM2mOption(FR, "X-M2M-Origin"),
            new OneM2mOption(RQI, "X-M2M-RI"),
            new OneM2mOption(RVI, "X-M2M-RVI"),
            new OneM2mOption(new StringOptionDefinition(259, "oneM2M-OT", true), "X-M2M-OT"),
            new OneM2mOption(new StringOptionDefinition(263, "oneM2M-RTURI", true), "X-M2M-RTU"),
            new OneM2mOption(new StringOptionDefinition(291, "oneM2M-RQET", true), "X-M2M-RET"),
            new OneM2mOption(new StringOptionDefinition(295, "oneM2M-RSET", true), "X-M2M-RST"),
            new OneM2mOption(new StringOptionDefinition(299, "oneM2M-OET", true), "X-M2M-OET"),
            new OneM2mOption(new IntegerOptionDefinition(303, "oneM2M-EC", true), "X-M2M-EC"),
            new OneM2mOption(new StringOptionDefinition(311, "oneM2M-GID", true), "X-M2M-GID"),
            new OneM2mOption(new StringOptionDefinition(327, "oneM2M-ATI", true), "X-M2M-ATI"),
            new OneM2mOption(new StringOptionDefinition(331, "oneM2M-VSI", true), "X-M2M-VSI"));

    /** TS-0008 content formats for oneM2M resources and notifications, JSON and CBOR. */
    static final int RES_JSON = 10001;

    static final int NTFY_JSON = 10003;
    static final int RES_CBOR = 10010;
    static final int NTFY_CBOR = 10011;

    /** Californium's standard options plus TS-0008's, for endpoints that speak this binding (also clients). */
    public static OptionRegistry registry() {
        OptionDefinition[] defs = new OptionDefinition[OPTIONS.size() + 2];
        for (int i = 0; i < OPTIONS.size(); i++) {
            defs[i] = OPTIONS.get(i).definition();
        }
        defs[OPTIONS.size()] = TY;
        defs[OPTIONS.size() + 1] = RSC;
        return new MapBasedOptionRegistry(StandardOptionRegistry.getDefaultOptionRegistry(), defs);
    }

    private final Config config;
    private final ProxyService proxy;
    private CoapServer server;
    private volatile int port = -1;

    ProxyCoapBinding(Config config, ProxyService proxy) {
        this.config = config;
        this.proxy = proxy;
    }

    void start(@Observes StartupEvent ev) {
        if (!config.enabled()) {
            return;
        }
        CoapConfig.register();
        UdpConfig.register();
        Configuration c = Configuration.createStandardWithoutFile();
        c.set(CoapConfig.MAX_RESOURCE_BODY_SIZE, config.maxBodyBytes());
        c.set(CoapConfig.BLOCKWISE_STRICT_BLOCK1_OPTION, true);
        c.set(CoapConfig.BLOCKWISE_STRICT_BLOCK2_OPTION, true);
        c.set(CoapConfig.PROTOCOL_STAGE_THREAD_COUNT, 2);
        CoapEndpoint endpoint = new CoapEndpoint.Builder()
                .setConfiguration(c)
                .setInetSocketAddress(new InetSocketAddress(config.host(), config.port()))
                .setOptionRegistry(registry())
                .setDataSerializerAndParser(
                        new org.eclipse.californium.core.network.serialization.UdpDataSerializer(),
                        new CoapDatagramParser(registry()))
                .build();
        server = new CoapServer(c);
        server.addEndpoint(endpoint);
        server.setMessageDeliverer(new Deliverer());
        server.start();
        port = endpoint.getAddress().getPort();
        LOG.infof("oneM2M CoAP binding of the proxy on %s:%d (udp)", config.host(), port);
    }

    void stop(@Observes ShutdownEvent ev) {
        if (server != null) {
            server.destroy();
        }
    }

    /** The bound UDP port (useful when configured as 0). */
    public int port() {
        return port;
    }

    private final class Deliverer implements MessageDeliverer {
        @Override
        public void deliverRequest(Exchange exchange) {
            Request request = exchange.getRequest();
            Translated t;
            try {
                t = translate(request);
            } catch (Refused r) {
                exchange.sendResponse(diagnostic(r.code, r.getMessage()));
                return;
            }
            ProxyService.Incoming in = t.incoming();
            CompletionStage<ProxyService.Outgoing> answer;
            try {
                if (t.remote() != null) {
                    // the originator role: a legacy entity's plain primitive, sent on as ESPrim (blocking: a worker)
                    answer = CompletableFuture.supplyAsync(
                            () -> proxy.originate(t.tenant(), t.remote(), in), Infrastructure.getDefaultWorkerPool());
                } else {
                    answer = proxy.passThroughFromMemory(t.tenant(), in)
                            .orElseGet(() -> CompletableFuture.supplyAsync(
                                            () -> proxy.handleOnWorker(t.tenant(), in),
                                            Infrastructure.getDefaultWorkerPool())
                                    .thenCompose(x -> x));
                }
            } catch (RuntimeException e) {
                answer = CompletableFuture.failedFuture(e);
            }
            answer.whenComplete((out, err) -> {
                if (err != null) {
                    LOG.warnf("CoAP binding: request of tenant %s failed: %s", t.tenant(), err.toString());
                    exchange.sendResponse(diagnostic(ResponseCode.INTERNAL_SERVER_ERROR, "internal error"));
                } else {
                    exchange.sendResponse(toCoap(out, request.getCode(), t.answerInCbor(), in.headers()));
                }
            });
        }

        @Override
        public void deliverResponse(Exchange exchange, Response response) {
            exchange.getRequest().setResponse(response);
        }
    }

    static final class Refused extends Exception {
        final ResponseCode code;

        Refused(ResponseCode code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }

    /** {@code remote} is the remote receiver of the originator role ({@code /onem2m-out/…}), else null. */
    record Translated(String tenant, String remote, ProxyService.Incoming incoming, boolean answerInCbor) {}

    /** A CoAP request as the HTTP binding's {@link ProxyService.Incoming}. */
    static Translated translate(Request request) throws Refused {
        CoAP.Code code = request.getCode();
        if (code != CoAP.Code.GET && code != CoAP.Code.POST && code != CoAP.Code.PUT && code != CoAP.Code.DELETE) {
            throw new Refused(ResponseCode.METHOD_NOT_ALLOWED, "GET, POST, PUT or DELETE");
        }
        OptionSet o = request.getOptions();
        List<String> segments = o.getUriPath();
        boolean out = !segments.isEmpty() && segments.get(0).equals("onem2m-out");
        if (segments.size() < (out ? 4 : 3) || !(out || segments.get(0).equals("onem2m"))) {
            throw new Refused(
                    ResponseCode.NOT_FOUND, "use /onem2m/<tenant>/<path> or /onem2m-out/<tenant>/<remote>/<path>");
        }
        for (String s : segments) {
            if (s.isEmpty() || s.equals(".") || s.equals("..") || s.indexOf('/') >= 0) {
                throw new Refused(ResponseCode.BAD_OPTION, "malformed Uri-Path segment");
            }
        }
        String tenant = segments.get(1);
        String remote = out ? segments.get(2) : null;
        String path = String.join("/", segments.subList(out ? 3 : 2, segments.size()));
        Map<String, String> headers = new LinkedHashMap<>();
        for (OneM2mOption m : OPTIONS) {
            List<Option> values = o.getOthers(m.definition());
            if (values.size() > 1) {
                throw new Refused(ResponseCode.BAD_OPTION, m.definition().getName() + " given twice");
            }
            if (!values.isEmpty()) {
                Option v = values.get(0);
                headers.put(
                        m.header(),
                        m.definition() instanceof IntegerOptionDefinition
                                ? Long.toString(v.getLongValue())
                                : v.getStringValue());
            }
        }
        Integer ty = null;
        List<Option> tys = o.getOthers(TY);
        if (!tys.isEmpty()) {
            ty = tys.get(0).getIntegerValue();
        }
        byte[] body = request.getPayload() == null ? new byte[0] : request.getPayload();
        boolean cbor = false;
        if (body.length > 0 || o.hasContentFormat()) {
            int format = o.getContentFormat();
            switch (format) {
                case MediaTypeRegistry.APPLICATION_JSON, RES_JSON, NTFY_JSON -> {}
                case MediaTypeRegistry.APPLICATION_CBOR, RES_CBOR, NTFY_CBOR -> {
                    cbor = true;
                    try {
                        body = CborJson.toJson(body);
                    } catch (CborJson.MalformedCbor e) {
                        throw new Refused(ResponseCode.BAD_REQUEST, e.getMessage());
                    }
                }
                default ->
                    throw new Refused(
                            ResponseCode.UNSUPPORTED_CONTENT_FORMAT,
                            "Content-Format " + format + " is not served here");
            }
            // the HTTP binding's form: the resource type rides on the media type (TS-0009 §6.4.3)
            headers.put("Content-Type", "application/json" + (ty == null ? "" : ";ty=" + ty));
        }
        boolean answerInCbor = cbor;
        if (o.hasAccept()) {
            int a = o.getAccept();
            if (a == MediaTypeRegistry.APPLICATION_CBOR || a == RES_CBOR) {
                answerInCbor = true;
            } else if (a == MediaTypeRegistry.APPLICATION_JSON || a == RES_JSON) {
                answerInCbor = false;
            } else {
                throw new Refused(ResponseCode.NOT_ACCEPTABLE, "Accept " + a + " is not served here");
            }
        }
        headers.put("Accept", "application/json");
        List<String> query = o.getUriQuery();
        return new Translated(
                tenant,
                remote,
                new ProxyService.Incoming(
                        code.name(), path, query.isEmpty() ? null : String.join("&", query), headers, body),
                answerInCbor);
    }

    /** The proxy's answer as a CoAP response: code from its status, oneM2M-RSC and -RQI options, the body. */
    static Response toCoap(ProxyService.Outgoing out, CoAP.Code method, boolean cbor, Map<String, String> request) {
        Response r = new Response(code(out.httpStatus(), method));
        r.getOptions().addOption(new Option(RSC, out.rsc()));
        String ri = request.get("X-M2M-RI");
        if (ri != null) {
            r.getOptions().addOption(new Option(RQI, ri));
        }
        byte[] body = out.body();
        if (body != null && body.length > 0) {
            String type = out.contentType() == null
                    ? "application/json"
                    : out.contentType().toLowerCase(Locale.ROOT);
            int format = type.contains("json") ? RES_JSON : MediaTypeRegistry.APPLICATION_OCTET_STREAM;
            if (cbor && format == RES_JSON) {
                try {
                    body = CborJson.fromJson(body);
                    format = RES_CBOR;
                } catch (IOException e) {
                    // not JSON after all: answered as it came
                }
            }
            r.setPayload(body);
            r.getOptions().setContentFormat(format);
        }
        String retryAfter = out.headers().get("Retry-After");
        if (retryAfter != null && retryAfter.matches("[0-9]{1,9}")) {
            r.getOptions().setMaxAge(Long.parseLong(retryAfter)); // RFC 8516 §4, with 4.29 (a tenant over its quota)
        }
        return r;
    }

    /** TS-0008 §6.3 (RSC ↔ CoAP code) read through the HTTP status the proxy chose, with the device listener's table. */
    static ResponseCode code(int status, CoAP.Code method) {
        return CoapDeviceBridge.responseCode(status, method);
    }

    static Response diagnostic(ResponseCode code, String message) {
        return CoapDeviceBridge.diagnostic(code, message);
    }
}
