package io.m2mtrust.proxy;

import io.m2mtrust.common.ResponseStatusCode;
import io.m2mtrust.tls.CborJson;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.MessageObserverAdapter;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.IntegerOptionDefinition;
import org.eclipse.californium.core.coap.option.StringOptionDefinition;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The oneM2M CoAP binding (TS-0008) <em>toward</em> a CSE or a remote receiver that offers it ({@code coap://} URLs):
 * the proxy's requests, which carry the HTTP binding's headers inside the service, go out with TS-0008's options (the
 * same table as {@link ProxyCoapBinding}), and the answer comes back as a {@link CseClient.Answer} — its HTTP status
 * derived from oneM2M-RSC (TS-0009's table), CBOR answers read into JSON. A peer that does not answer in time is 4008,
 * one that rejects the message or cannot be reached 5103, as over HTTP.
 */
@ApplicationScoped
class CoapCseClient {

    private static final Pattern TY_PARAMETER = Pattern.compile(";\\s*ty\\s*=\\s*(\\d{1,5})");

    private volatile CoapEndpoint endpoint;

    /** One client endpoint (an ephemeral UDP port), made at the first coap:// request. */
    private CoapEndpoint endpoint() {
        CoapEndpoint e = endpoint;
        if (e == null) {
            synchronized (this) {
                e = endpoint;
                if (e == null) {
                    CoapConfig.register();
                    UdpConfig.register();
                    Configuration c = Configuration.createStandardWithoutFile();
                    c.set(CoapConfig.MAX_RESOURCE_BODY_SIZE, CseClient.MAX_RESPONSE);
                    c.set(CoapConfig.PROTOCOL_STAGE_THREAD_COUNT, 1);
                    e = new CoapEndpoint.Builder()
                            .setConfiguration(c)
                            .setInetSocketAddress(new InetSocketAddress(0))
                            .setOptionRegistry(ProxyCoapBinding.registry())
                            .build();
                    try {
                        e.start();
                    } catch (java.io.IOException io) {
                        throw new IllegalStateException("the CoAP client cannot bind a UDP port", io);
                    }
                    endpoint = e;
                }
            }
        }
        return e;
    }

    void stop(@Observes ShutdownEvent ev) {
        CoapEndpoint e = endpoint;
        if (e != null) {
            e.destroy();
        }
    }

    /** Sends one primitive; the stage always completes with an answer (a oneM2M error answer when the peer fails). */
    CompletionStage<CseClient.Answer> sendAsync(
            String baseUrl,
            String method,
            String pathAndQuery,
            Map<String, String> headers,
            byte[] body,
            Duration timeout) {
        Request request;
        try {
            request = request(baseUrl, method, pathAndQuery, headers, body);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(CseClient.error(5103, "the CoAP URL is not usable"));
        }
        CompletableFuture<CseClient.Answer> answered = new CompletableFuture<>();
        request.addMessageObserver(new MessageObserverAdapter() {
            @Override
            public void onResponse(Response response) {
                answered.complete(answer(response));
            }

            @Override
            public void onReject() {
                answered.complete(CseClient.error(5103, "the CoAP peer rejected the request"));
            }

            @Override
            public void onTimeout() {
                answered.complete(timedOut(timeout));
            }

            @Override
            protected void failed() {
                answered.complete(CseClient.error(5103, "the CoAP peer cannot be reached"));
            }
        });
        endpoint().sendRequest(request);
        return answered.completeOnTimeout(timedOut(timeout), timeout.toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((a, e) -> {
                    if (!request.isCanceled() && request.getResponse() == null) {
                        request.cancel(); // no retransmissions after the answer the caller got
                    }
                });
    }

    private static CseClient.Answer timedOut(Duration timeout) {
        return CseClient.error(4008, "the CoAP peer did not answer within " + timeout.toMillis() + " ms");
    }

    /** The HTTP-binding form of a primitive as a confirmable CoAP request with TS-0008 options. */
    static Request request(
            String baseUrl, String method, String pathAndQuery, Map<String, String> headers, byte[] body) {
        URI base = URI.create(baseUrl);
        if (!"coap".equals(base.getScheme()) || base.getHost() == null) {
            throw new IllegalArgumentException("not a coap:// URL");
        }
        Request r = new Request(CoAP.Code.valueOf(method.toUpperCase(Locale.ROOT)), CoAP.Type.CON);
        r.setURI(URI.create("coap://" + hostPort(base)));
        OptionSet o = r.getOptions();
        String[] pq = pathAndQuery.split("\\?", 2);
        String path = (base.getRawPath() == null ? "" : base.getRawPath()) + "/" + pq[0];
        for (String segment : path.split("/")) {
            if (!segment.isEmpty()) {
                o.addUriPath(URLDecoder.decode(segment, StandardCharsets.UTF_8));
            }
        }
        if (pq.length > 1) {
            for (String q : pq[1].split("&")) {
                if (!q.isEmpty()) {
                    o.addUriQuery(URLDecoder.decode(q, StandardCharsets.UTF_8));
                }
            }
        }
        Map<String, String> lower = new LinkedHashMap<>();
        headers.forEach((k, v) -> lower.put(k.toLowerCase(Locale.ROOT), v));
        for (ProxyCoapBinding.OneM2mOption m : ProxyCoapBinding.OPTIONS) {
            String v = lower.get(m.header().toLowerCase(Locale.ROOT));
            if (v == null) {
                continue;
            }
            if (m.definition() instanceof IntegerOptionDefinition integer) {
                try {
                    o.addOption(new Option(integer, Long.parseLong(v.trim())));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(m.header() + " is not a number");
                }
            } else if (m.definition() instanceof StringOptionDefinition string) {
                o.addOption(new Option(string, v));
            }
        }
        String contentType = lower.get("content-type");
        if (body != null && body.length > 0) {
            r.setPayload(body);
            String ct = contentType == null ? "application/json" : contentType.toLowerCase(Locale.ROOT);
            Matcher ty = TY_PARAMETER.matcher(ct);
            if (ty.find()) {
                // TS-0008: the resource type travels in oneM2M-TY, the serialisation in Content-Format
                o.addOption(new Option(ProxyCoapBinding.TY, Integer.parseInt(ty.group(1))));
                o.setContentFormat(ProxyCoapBinding.RES_JSON);
            } else {
                o.setContentFormat(
                        ct.contains("ntfy") || "POST".equals(method)
                                ? ProxyCoapBinding.NTFY_JSON
                                : ProxyCoapBinding.RES_JSON);
            }
        }
        o.setAccept(ProxyCoapBinding.RES_JSON);
        return r;
    }

    private static String hostPort(URI base) {
        String host = base.getHost().contains(":") && !base.getHost().startsWith("[")
                ? "[" + base.getHost() + "]"
                : base.getHost();
        return host + ":" + (base.getPort() < 0 ? CoAP.DEFAULT_COAP_PORT : base.getPort());
    }

    /** A CoAP answer in the HTTP binding's form. */
    static CseClient.Answer answer(Response response) {
        OptionSet o = response.getOptions();
        Integer rsc = null;
        List<Option> rscs = o.getOthers(ProxyCoapBinding.RSC);
        if (!rscs.isEmpty()) {
            rsc = (int) rscs.get(0).getLongValue();
        }
        if (rsc == null) {
            rsc = response.isSuccess() ? 2000 : 5000;
        }
        byte[] body = response.getPayload() == null ? new byte[0] : response.getPayload();
        if (body.length > CseClient.MAX_RESPONSE) {
            return CseClient.error(5000, "the CoAP peer answered more than " + CseClient.MAX_RESPONSE + " bytes");
        }
        String contentType = null;
        if (body.length > 0) {
            int format = o.hasContentFormat() ? o.getContentFormat() : MediaTypeRegistry.APPLICATION_JSON;
            switch (format) {
                case MediaTypeRegistry.APPLICATION_CBOR, ProxyCoapBinding.RES_CBOR, ProxyCoapBinding.NTFY_CBOR -> {
                    try {
                        body = CborJson.toJson(body);
                    } catch (CborJson.MalformedCbor e) {
                        return CseClient.error(5000, "the CoAP peer answered malformed CBOR");
                    }
                    contentType = "application/json";
                }
                case MediaTypeRegistry.TEXT_PLAIN -> contentType = "text/plain";
                default -> contentType = "application/json";
            }
        }
        Map<String, String> h = new LinkedHashMap<>();
        for (ProxyCoapBinding.OneM2mOption m : ProxyCoapBinding.OPTIONS) {
            if (m.header().equals("X-M2M-RI")
                    || m.header().equals("X-M2M-RVI")
                    || m.header().equals("X-M2M-OT")) {
                List<Option> v = o.getOthers(m.definition());
                if (!v.isEmpty()) {
                    h.put(m.header(), v.get(0).getStringValue());
                }
            }
        }
        if (!o.getLocationPath().isEmpty()) {
            h.put("Content-Location", String.join("/", o.getLocationPath()));
        }
        return new CseClient.Answer(ResponseStatusCode.httpStatusOf(rsc), rsc, contentType, body, h);
    }
}
