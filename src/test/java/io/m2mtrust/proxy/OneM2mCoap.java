package io.m2mtrust.proxy;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;

import java.util.List;

/** oneM2M primitives over CoAP as a client builds them (TS-0008 options), and the options of their answers. */
final class OneM2mCoap {

    static final ObjectMapper JSON = new ObjectMapper();

    private OneM2mCoap() {}

    /** From, Request Identifier and release version 3 as options; TY and a JSON body (10001) when given. */
    static Request primitive(CoAP.Code code, String uri, String origin, String ri, Integer ty, Object body)
            throws Exception {
        Request r = new Request(code);
        r.setURI(uri);
        r.getOptions().addOption(new Option(ProxyCoapBinding.FR, origin));
        r.getOptions().addOption(new Option(ProxyCoapBinding.RQI, ri));
        r.getOptions().addOption(new Option(ProxyCoapBinding.RVI, "3"));
        if (ty != null) {
            r.getOptions().addOption(new Option(ProxyCoapBinding.TY, ty));
        }
        if (body != null) {
            r.setPayload(JSON.writeValueAsBytes(body));
            r.getOptions().setContentFormat(ProxyCoapBinding.RES_JSON);
        }
        return r;
    }

    static long rsc(CoapResponse r) {
        List<Option> o = r.getOptions().getOthers(ProxyCoapBinding.RSC);
        return o.isEmpty() ? -1 : o.get(0).getLongValue();
    }

    static String rqi(CoapResponse r) {
        List<Option> o = r.getOptions().getOthers(ProxyCoapBinding.RQI);
        return o.isEmpty() ? null : o.get(0).getStringValue();
    }
}
