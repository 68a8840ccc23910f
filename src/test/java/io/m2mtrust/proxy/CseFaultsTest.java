package io.m2mtrust.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.common.Admission;
import io.m2mtrust.common.ResponseStatusCode;
import io.m2mtrust.testsupport.Api;
import io.m2mtrust.testsupport.CuttableTcpProxy;
import io.m2mtrust.testsupport.MiniCse;
import io.m2mtrust.testsupport.ProxyFixtures;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A bad CSE behind the proxy (issue 21): one ten times slower than the tenant's timeout, and one whose connection
 * flaps. The slow tenant holds at most its share of the proxy lane ({@code m2m.admission.proxy-max-in-flight-per-tenant},
 * 64): what it sends beyond is refused at once (503, RSC 5000, Retry-After), what was admitted ends with 4008 at the
 * timeout, and another tenant's requests are served meanwhile. The flapping CSE's requests end with 2000 or 5103,
 * none hangs, and the proxy works again as soon as the CSE does.
 */
@QuarkusTest
class CseFaultsTest {

    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TestHTTPResource("/")
    URL base;

    @Inject
    Admission admission;

    HttpRequest get(String tenant, String cseBase, String ri) {
        return HttpRequest.newBuilder(URI.create(base + "onem2m/" + tenant + "/" + cseBase))
                .header("X-M2M-Origin", "Cfaults")
                .header("X-M2M-RI", ri)
                .header("X-M2M-RVI", "3")
                .timeout(Duration.ofSeconds(30)) // a hanging request fails the test instead of waiting forever
                .GET()
                .build();
    }

    static String rsc(HttpResponse<?> r) {
        return r.headers().firstValue("X-M2M-RSC").orElse("none");
    }

    @Test
    void a_cse_ten_times_slower_than_the_timeout_holds_only_its_tenants_share_while_another_tenant_is_served()
            throws Exception {
        String slow = Api.ensureTenant("slow-cse-co");
        String calm = Api.ensureTenant("calm-cse-co");
        try (MiniCse slowCse = MiniCse.start("/id-slow", "cse-slow", 8);
                MiniCse calmCse = MiniCse.start("/id-calm", "cse-calm", 8)) {
            ProxyFixtures.proxy(slow, slowCse.url(), "/id-slow", "cse-slow", null, 4_000);
            ProxyFixtures.proxy(calm, calmCse.url(), "/id-calm", "cse-calm", null, null);
            assertThat(rsc(HTTP.send(get(slow, "cse-slow", "warm"), HttpResponse.BodyHandlers.discarding())))
                    .isEqualTo("2000");
            slowCse.slow(40_000); // ten times the tenant's timeout

            int offered = 100;
            int share = 64;
            List<CompletableFuture<HttpResponse<String>>> slowAnswers = new ArrayList<>();
            for (int i = 0; i < offered; i++) {
                slowAnswers.add(HTTP.sendAsync(get(slow, "cse-slow", "s-" + i), HttpResponse.BodyHandlers.ofString()));
            }
            awaitShare(slow, share);
            assertThat(admission.proxy().inFlight()).isLessThanOrEqualTo(share + 1);

            // while the slow tenant's share is full, the calm tenant's requests go through and its CSE answers
            for (int i = 0; i < 20; i++) {
                HttpResponse<String> r =
                        HTTP.send(get(calm, "cse-calm", "c-" + i), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                assertThat(rsc(r)).isEqualTo("2000");
                assertThat(r.headers().firstValue("X-M2M-RI")).hasValue("c-" + i);
            }
            assertThat(admission.proxyShares().inFlight(slow))
                    .as("the calm tenant was served while the slow tenant's share was still held")
                    .isEqualTo(share);

            Map<String, Long> outcomes = new ConcurrentHashMap<>();
            for (CompletableFuture<HttpResponse<String>> f : slowAnswers) {
                HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
                outcomes.merge(r.statusCode() + "/" + rsc(r), 1L, Long::sum);
                if (r.statusCode() == 503) {
                    assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
                }
            }
            assertThat(outcomes)
                    .as("admitted requests time out with 4008; the rest are refused at once with 5000")
                    .containsEntry("503/5000", (long) (offered - share))
                    .containsEntry(ResponseStatusCode.httpStatusOf(4008) + "/4008", (long) share)
                    .hasSize(2);
            awaitShare(slow, 0);
            slowCse.slow(0);
        }
        assertThat(admission.proxyShares().tenants())
                .as("no tenant entry outlives its requests")
                .isZero();
    }

    @Test
    void a_flapping_cse_gets_2000_or_5103_never_a_hang_and_the_proxy_recovers_with_it() throws Exception {
        String t = Api.ensureTenant("flapping-cse-co");
        try (MiniCse cse = MiniCse.start("/id-flap", "cse-flap", 8);
                CuttableTcpProxy link =
                        new CuttableTcpProxy("127.0.0.1", URI.create(cse.url()).getPort())) {
            ProxyFixtures.proxy(t, "http://127.0.0.1:" + link.port(), "/id-flap", "cse-flap", null, 2_000);
            AtomicBoolean flapping = new AtomicBoolean(true);
            ExecutorService pool = Executors.newFixedThreadPool(5);
            Map<String, Long> outcomes = new ConcurrentHashMap<>();
            List<Future<?>> work = new ArrayList<>();
            work.add(pool.submit(() -> {
                for (int i = 0; i < 24; i++) { // 24 × 150 ms: down and up a dozen times each
                    if (i % 2 == 0) {
                        link.cut();
                    } else {
                        link.restore();
                    }
                    Thread.sleep(150);
                }
                link.restore();
                flapping.set(false);
                return null;
            }));
            for (int w = 0; w < 4; w++) {
                int worker = w;
                work.add(pool.submit(() -> {
                    int i = 0;
                    while (flapping.get()) {
                        HttpResponse<String> r = HTTP.send(
                                get(t, "cse-flap", "f-" + worker + "-" + i++), HttpResponse.BodyHandlers.ofString());
                        outcomes.merge(rsc(r), 1L, Long::sum);
                        Thread.sleep(20); // well under the tenant's request quota (1000/s by default)
                    }
                    return null;
                }));
            }
            for (Future<?> f : work) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
            System.out.println("flapping CSE: answers by RSC " + outcomes);
            assertThat(outcomes.keySet())
                    .as("every answer is the CSE's or 5103")
                    .isSubsetOf("2000", "5103");
            assertThat(outcomes).containsKeys("2000", "5103");

            // up again: the next requests all reach it (no dead pooled connection answers for it)
            List<String> after = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                after.add(rsc(HTTP.send(get(t, "cse-flap", "a-" + i), HttpResponse.BodyHandlers.discarding())));
            }
            assertThat(after.stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting())))
                    .isEqualTo(Map.of("2000", 20L));
            awaitShare(t, 0);
        }
    }

    private void awaitShare(String tenant, int expected) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (admission.proxyShares().inFlight(tenant) != expected) {
            if (System.nanoTime() > end) {
                throw new AssertionError("the tenant's proxy share stayed at "
                        + admission.proxyShares().inFlight(tenant) + ", expected " + expected);
            }
            Thread.sleep(20);
        }
    }
}
