package io.m2mtrust.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.m2mtrust.testsupport.RealKeycloakProfile;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The console in a real browser (headless Debian Chromium through chromedriver) against the real Keycloak:
 * a tenant-admin signs in (authorization code + PKCE), changes the policy (and sees field errors and a
 * conflict explained), finds the change in the audit and signs out; an auditor sees no actions; another
 * tenant's admin sees nothing of the tenant; a form post without the CSRF token is refused. Screenshots of
 * the main pages go to target/console-screenshots.
 */
@QuarkusTest
@TestProfile(RealKeycloakProfile.class)
class ConsoleBrowserTest {

    static final Path SHOTS = Path.of("target/console-screenshots");
    final List<WebDriver> drivers = new ArrayList<>();

    @BeforeEach
    void tenants() throws Exception {
        String olivia = RealKeycloakProfile.keycloak.passwordGrant("olivia", "olivia-demo-password");
        for (String t : List.of("demo", "other-co")) {
            int s = RestAssured.given()
                    .auth()
                    .oauth2(olivia)
                    .contentType("application/json")
                    .body(Map.of("id", t, "name", t))
                    .post("/api/v1/tenants")
                    .statusCode();
            assertThat(s).isIn(200, 201, 409);
        }
        Files.createDirectories(SHOTS);
    }

    @AfterEach
    void quit() {
        drivers.forEach(WebDriver::quit);
    }

    WebDriver browser() {
        ChromeOptions o = new ChromeOptions();
        o.setBinary("/usr/bin/chromium");
        o.addArguments(
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1280,1000");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver"))
                .usingAnyFreePort()
                .build();
        WebDriver d = new ChromeDriver(service, o);
        d.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
        drivers.add(d);
        return d;
    }

    static String console() {
        return RealKeycloakProfile.consoleUrl;
    }

    /** Opens the console, signs in at Keycloak's login form and waits to be back. */
    static void signIn(WebDriver d, String user) {
        d.get(console() + "/console");
        WebDriverWait wait = new WebDriverWait(d, Duration.ofSeconds(30));
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("username")));
        assertThat(d.getCurrentUrl())
                .as("Keycloak's login page")
                .contains("/realms/m2m-trust/protocol/openid-connect/auth")
                .contains("code_challenge=")
                .contains("code_challenge_method=S256");
        d.findElement(By.id("username")).sendKeys(user);
        d.findElement(By.id("password")).sendKeys(user + "-demo-password");
        d.findElement(By.id("kc-login")).click();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("user")));
    }

    static void shot(WebDriver d, String name) throws Exception {
        File f = ((TakesScreenshot) d).getScreenshotAs(OutputType.FILE);
        Files.copy(f.toPath(), SHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    /** Clicks something that loads a new page and waits until the old page is gone. */
    static void go(WebDriver d, By by) {
        WebElement html = d.findElement(By.tagName("html"));
        d.findElement(by).click();
        // the old page is gone once touching its root fails (Chromium says "stale" or "does not belong to the
        // document")
        new WebDriverWait(d, Duration.ofSeconds(30)).until(w -> {
            try {
                html.isEnabled();
                return false;
            } catch (org.openqa.selenium.WebDriverException gone) {
                return true;
            }
        });
        new WebDriverWait(d, Duration.ofSeconds(30))
                .until(w -> "complete"
                        .equals(((org.openqa.selenium.JavascriptExecutor) w)
                                .executeScript("return document.readyState")));
    }

    /** Accessibility basics: every visible form control has a label bound to it, the page has a main landmark and a skip link. */
    static void assertAccessible(WebDriver d) {
        for (WebElement e : d.findElements(By.cssSelector("input:not([type=hidden]), select, textarea"))) {
            String id = e.getAttribute("id");
            assertThat(id)
                    .as("a form control without id on " + d.getCurrentUrl())
                    .isNotBlank();
            assertThat(d.findElements(By.cssSelector("label[for='" + id + "']")))
                    .as("label for #" + id + " on " + d.getCurrentUrl())
                    .isNotEmpty();
        }
        assertThat(d.findElements(By.cssSelector("main#main"))).hasSize(1);
        assertThat(d.findElements(By.cssSelector("a.skip[href='#main']"))).hasSize(1);
        assertThat(d.findElement(By.tagName("html")).getAttribute("lang")).isEqualTo("en");
    }

    static void set(WebDriver d, String id, String value) {
        WebElement e = d.findElement(By.id(id));
        e.clear();
        e.sendKeys(value);
    }

    @Test
    void a_tenant_admin_signs_in_changes_the_policy_finds_it_in_the_audit_and_signs_out() throws Exception {
        WebDriver d = browser();
        signIn(d, "ada");
        assertThat(d.getCurrentUrl()).isEqualTo(console() + "/console/t/demo");
        assertThat(d.findElement(By.id("user")).getText()).isEqualTo("ada");
        assertThat(d.findElement(By.id("roles")).getText()).contains("tenant-admin");
        assertThat(d.findElement(By.id("bound-tenant")).getText()).contains("demo");
        shot(d, "overview");

        d.get(console() + "/console/t/demo/policy");
        assertAccessible(d);
        int targets = Integer.parseInt(d.findElement(By.id("maxEsdataTargets")).getAttribute("value")) + 1;
        set(d, "maxEsdataTargets", Integer.toString(targets));
        go(d, By.id("save"));
        assertThat(d.findElement(By.id("notice")).getText()).contains("Saved");
        assertThat(d.findElement(By.id("maxEsdataTargets")).getAttribute("value"))
                .isEqualTo(Integer.toString(targets));
        shot(d, "policy");

        // errors next to the fields, nothing saved
        set(d, "allowedSuids", "13, 99");
        set(d, "requestQuotaPerSecond", "lots");
        go(d, By.id("save"));
        assertThat(d.findElement(By.id("form-errors")).getText()).contains("not saved");
        assertThat(d.findElement(By.id("requestQuotaPerSecond-error")).getText())
                .contains("whole number");
        shot(d, "policy-errors");
        set(d, "requestQuotaPerSecond", "500");
        go(d, By.id("save"));
        assertThat(d.findElement(By.id("allowedSuids-error")).getText()).contains("99");
        assertThat(d.findElement(By.id("allowedSuids")).getAttribute("aria-invalid"))
                .isEqualTo("true");
        // quotas (issue 21): a number too large for the field is refused, not wrapped; each bucket's use is shown
        set(d, "hsmBurst", "99999999999");
        go(d, By.id("save"));
        assertThat(d.findElement(By.id("hsmBurst-error")).getText()).contains("too large");
        assertThat(d.findElements(By.cssSelector("#quota-buckets tbody tr"))).hasSize(6);
        assertThat(d.findElement(By.id("bucket-hsm")).getText()).startsWith("hsm");

        // a conflict: the policy changes (through the API) while the form is open
        d.get(console() + "/console/t/demo/policy");
        String ada = RealKeycloakProfile.keycloak.passwordGrant("ada", "ada-demo-password");
        var current = RestAssured.given().auth().oauth2(ada).get("/api/v1/tenants/demo/policy");
        Map<String, Object> doc = current.jsonPath().getMap("");
        doc.put("requestQuotaPerSecond", 777);
        RestAssured.given()
                .auth()
                .oauth2(ada)
                .contentType("application/json")
                .header("If-Match", current.header("ETag"))
                .body(doc)
                .put("/api/v1/tenants/demo/policy")
                .then()
                .statusCode(200);
        set(d, "maxEsdataTargets", "5");
        go(d, By.id("save"));
        assertThat(d.findElement(By.id("conflict")).getText())
                .contains("Someone else saved this policy")
                .contains("not saved");
        assertThat(d.findElement(By.id("requestQuotaPerSecond")).getAttribute("value"))
                .isEqualTo("777");

        // the change is in the audit, with the console user as actor
        d.get(console() + "/console/t/demo/audit?action=policy.update&outcome=SUCCESS");
        List<WebElement> rows = d.findElements(By.cssSelector("#events tbody tr"));
        assertThat(rows).isNotEmpty();
        assertThat(rows.get(1).getText()).contains("policy.update").contains("ada");
        assertThat(d.findElement(By.id("chain")).getText()).contains("Chain intact");
        assertAccessible(d);
        shot(d, "audit");

        // the pages carry the security headers; a form post without the CSRF token is refused
        String cookies = d.manage().getCookies().stream()
                .filter(c -> !c.getName().equals("m2m-console-csrf"))
                .map(c -> c.getName() + "=" + c.getValue())
                .collect(Collectors.joining("; "));
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> page = http.send(
                HttpRequest.newBuilder(URI.create(console() + "/console/t/demo/policy"))
                        .header("Cookie", cookies)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Security-Policy").orElse(""))
                .contains("frame-ancestors 'none'")
                .contains("script-src 'self'");
        assertThat(page.headers().firstValue("Cache-Control").orElse("")).isEqualTo("no-store");
        HttpResponse<String> forged = http.send(
                HttpRequest.newBuilder(URI.create(console() + "/console/t/demo/policy"))
                        .header("Cookie", cookies)
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString("version=1&maxEsdataTargets=1"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(forged.statusCode()).isEqualTo(403);
        assertThat(forged.body()).contains("CSRF");

        d.findElement(By.id("sign-out")).click();
        new WebDriverWait(d, Duration.ofSeconds(30)).until(ExpectedConditions.urlContains("/console-signed-out"));
        d.get(console() + "/console/t/demo");
        new WebDriverWait(d, Duration.ofSeconds(30))
                .until(ExpectedConditions.presenceOfElementLocated(By.id("username")));
    }

    @Test
    void a_tenant_admin_rotates_a_group_pages_and_filters_its_devices_and_denies_one() throws Exception {
        String ada = RealKeycloakProfile.keycloak.passwordGrant("ada", "ada-demo-password");
        int made = RestAssured.given()
                .auth()
                .oauth2(ada)
                .contentType("application/json")
                .body(Map.of("id", "meters", "name", "Meters"))
                .post("/api/v1/tenants/demo/enrolment-groups")
                .statusCode();
        assertThat(made).isIn(201, 409);
        List<String> ids = new ArrayList<>();
        for (int i = 1; i <= 120; i++) {
            ids.add(String.format("m-%03d", i));
        }
        RestAssured.given()
                .auth()
                .oauth2(ada)
                .contentType("application/json")
                .body(Map.of("deviceIds", ids))
                .post("/api/v1/tenants/demo/enrolment-groups/meters/devices")
                .then()
                .statusCode(200);

        WebDriver d = browser();
        signIn(d, "ada");
        d.get(console() + "/console/t/demo/enrolment");
        int epoch = Integer.parseInt(
                d.findElement(By.cssSelector("#groups tbody tr td.epoch")).getText());
        go(d, By.id("rotate-meters"));
        assertThat(d.findElement(By.id("notice")).getText()).contains("epoch " + (epoch + 1) + " is now primary");
        shot(d, "enrolment-groups");

        d.get(console() + "/console/t/demo/enrolment/meters");
        assertThat(d.findElements(By.cssSelector("#devices tbody tr"))).hasSize(50);
        go(d, By.id("next"));
        assertThat(d.findElements(By.cssSelector("#devices tbody tr")).get(0).getText())
                .startsWith("m-051");
        set(d, "prefix", "m-11");
        go(d, By.id("filter"));
        assertThat(d.findElements(By.cssSelector("#devices tbody tr"))).hasSize(10);
        go(d, By.id("deny-m-115"));
        assertThat(d.findElement(By.id("notice")).getText()).contains("m-115 denied");
        assertThat(d.findElement(By.cssSelector("#device-m-115 .status")).getText())
                .isEqualTo("DENIED");
        assertThat(d.findElements(By.id("allow-m-115"))).hasSize(1); // a denied device offers re-allow
        d.get(console() + "/console/t/demo/enrolment/meters?status=DENIED");
        assertThat(d.findElements(By.cssSelector("#devices tbody tr")))
                .extracting(WebElement::getText)
                .anyMatch(t -> t.startsWith("m-115"));
        shot(d, "devices");
        assertAccessible(d);

        // the one-time Kpm export asks for confirmation; a policy that keeps keys in the HSM refuses it
        hostMemory(ada, false);
        d.get(console() + "/console/t/demo/enrolment/meters/devices/m-001/kpm-export");
        d.findElement(By.id("confirm")).sendKeys("m-001");
        go(d, By.id("export"));
        assertThat(d.findElement(By.id("error-message")).getText()).contains("allowHostMemoryKeys");
        // allowed: shown once, then refused for this epoch
        hostMemory(ada, true);
        d.get(console() + "/console/t/demo/enrolment/meters/devices/m-002/kpm-export");
        d.findElement(By.id("confirm")).sendKeys("m-002");
        go(d, By.id("export"));
        assertThat(d.findElement(By.id("kpm-id")).getText()).startsWith("m-002~");
        assertThat(d.findElement(By.id("kpm-value")).getText()).matches("[A-Za-z0-9+/=]{40,}");
        d.get(console() + "/console/t/demo/enrolment/meters/devices/m-002/kpm-export");
        d.findElement(By.id("confirm")).sendKeys("m-002");
        go(d, By.id("export"));
        assertThat(d.findElement(By.id("error-message")).getText()).contains("already exported");

        d.get(console() + "/console/t/demo/audit?action=device.deny");
        assertThat(d.findElement(By.cssSelector("#events tbody tr")).getText())
                .contains("device.deny")
                .contains("m-115")
                .contains("ada");
    }

    @Test
    void certificates_are_revoked_with_a_reason_and_the_platform_admin_sees_the_hsm_health() throws Exception {
        String ada = RealKeycloakProfile.keycloak.passwordGrant("ada", "ada-demo-password");
        int ca = RestAssured.given()
                .auth()
                .oauth2(ada)
                .contentType("application/json")
                .post("/api/v1/tenants/demo/ca")
                .statusCode();
        assertThat(ca).isIn(201, 409);
        String serial = RestAssured.given()
                .auth()
                .oauth2(ada)
                .contentType("application/json")
                .body(Map.of(
                        "id",
                        "ep-" + System.nanoTime(),
                        "subjectType",
                        "FQDN",
                        "subjectId",
                        "ep" + System.nanoTime() + ".demo.example"))
                .post("/api/v1/tenants/demo/endpoints")
                .then()
                .statusCode(201)
                .extract()
                .jsonPath()
                .getString("certificateSerial");

        WebDriver d = browser();
        signIn(d, "ada");
        d.get(console() + "/console/t/demo/certificates?status=VALID");
        int revokedBefore = Integer.parseInt(
                d.findElement(By.cssSelector("#crls tbody tr .revoked-count")).getText());
        new org.openqa.selenium.support.ui.Select(d.findElement(By.id("reason-" + serial)))
                .selectByVisibleText("keyCompromise");
        go(d, By.id("revoke-" + serial));
        assertThat(d.findElement(By.id("notice")).getText()).contains(serial).contains("keyCompromise");
        assertThat(d.findElement(By.cssSelector("#cert-" + serial + " .status")).getText())
                .isEqualTo("REVOKED");
        assertThat(Integer.parseInt(d.findElement(By.cssSelector("#crls tbody tr .revoked-count"))
                        .getText()))
                .isGreaterThan(revokedBefore);
        shot(d, "certificates");
        assertAccessible(d);
        d.get(console() + "/console/hsm");
        assertThat(d.findElement(By.id("error-message")).getText()).contains("platform administrators");

        WebDriver olivia = browser();
        signIn(olivia, "olivia");
        assertThat(olivia.getCurrentUrl()).endsWith("/console/tenants");
        go(olivia, By.linkText("demo"));
        assertThat(olivia.getCurrentUrl()).endsWith("/console/t/demo");
        // a platform-admin creates a tenant, suspends it and re-activates it
        String id = "console-" + Long.toString(System.nanoTime() % 100000);
        olivia.get(console() + "/console/tenants");
        olivia.findElement(By.id("new-id")).sendKeys(id);
        olivia.findElement(By.id("new-name")).sendKeys("Made in the console");
        go(olivia, By.id("create-tenant"));
        assertThat(olivia.getCurrentUrl()).endsWith("/console/t/" + id);
        assertThat(olivia.findElement(By.id("tenant-status")).getText()).isEqualTo("ACTIVE");
        go(olivia, By.id("suspend"));
        assertThat(olivia.findElement(By.id("tenant-status")).getText()).isEqualTo("SUSPENDED");
        go(olivia, By.id("activate"));
        assertThat(olivia.findElement(By.id("tenant-status")).getText()).isEqualTo("ACTIVE");
        olivia.get(console() + "/console/hsm");
        assertThat(olivia.findElement(By.id("token")).getText()).contains("Token up");
        new WebDriverWait(olivia, Duration.ofSeconds(30)).until(w -> {
            w.navigate().refresh();
            // a sign bar of a minute with operations (the page's own audit and CA work signs in the HSM)
            return w.findElements(By.cssSelector("figure.chart svg rect.bar")).stream()
                    .anyMatch(b -> !"0".equals(b.getAttribute("height")));
        });
        assertThat(olivia.findElements(By.cssSelector("#key-versions tbody tr")))
                .isNotEmpty();
        shot(olivia, "hsm");
    }

    @jakarta.inject.Inject
    io.m2mtrust.tls.DeviceTlsListener listener;

    static void hostMemory(String token, boolean allowed) {
        var pol = RestAssured.given().auth().oauth2(token).get("/api/v1/tenants/demo/policy");
        Map<String, Object> doc = pol.jsonPath().getMap("");
        doc.put("allowHostMemoryKeys", allowed);
        RestAssured.given()
                .auth()
                .oauth2(token)
                .contentType("application/json")
                .header("If-Match", pol.header("ETag"))
                .body(doc)
                .put("/api/v1/tenants/demo/policy")
                .then()
                .statusCode(200);
    }

    @Test
    void a_mef_client_shows_its_key_lineage_and_is_revoked_with_its_keys() throws Exception {
        String ada = RealKeycloakProfile.keycloak.passwordGrant("ada", "ada-demo-password");
        // a real enrolee: Kpm exported once (policy allows it here), then OpenSSL registers at the MEF over TLS-PSK
        hostMemory(ada, true);
        int made = RestAssured.given()
                .auth()
                .oauth2(ada)
                .contentType("application/json")
                .body(Map.of("id", "gateways", "name", "Gateways"))
                .post("/api/v1/tenants/demo/enrolment-groups")
                .statusCode();
        assertThat(made).isIn(201, 409);
        String device = "gw-" + System.nanoTime();
        RestAssured.given()
                .auth()
                .oauth2(ada)
                .contentType("application/json")
                .body(Map.of("deviceIds", List.of(device)))
                .post("/api/v1/tenants/demo/enrolment-groups/gateways/devices")
                .then()
                .statusCode(200);
        var export = RestAssured.given()
                .auth()
                .oauth2(ada)
                .contentType("application/json")
                .post("/api/v1/tenants/demo/enrolment-groups/gateways/devices/" + device + "/kpm-export")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        String kpmId = export.getString("kpmId");
        byte[] kpm = java.util.Base64.getDecoder().decode(export.getString("kpm"));
        String mef = "mef.demo.m2m-trust.local";
        var reg = io.m2mtrust.testsupport.OpenSsl.pskCall(
                listener.port(),
                mef,
                kpmId,
                kpm,
                "POST",
                "/clientRegistration",
                "{\"mefFqdn\":\"" + mef + "\",\"expirationTime\":\""
                        + java.time.Instant.now().plusSeconds(86400) + "\",\"adminFqdn\":\"admin.demo.example\"}");
        assertThat(reg.status()).as(reg.output()).isEqualTo(201);
        String regId = reg.json().getString("mefClientRegId");
        var key = io.m2mtrust.testsupport.OpenSsl.pskCall(
                listener.port(),
                mef,
                kpmId,
                kpm,
                "POST",
                "/keyRegistration",
                io.m2mtrust.testsupport.OpenSsl.keyRegistration(
                        "mefFqdn",
                        mef,
                        "admin.demo.example",
                        24,
                        List.of("app.demo.example"),
                        java.util.Base64.getEncoder().encodeToString(new byte[64]),
                        java.time.Instant.now().plusSeconds(3600)));
        assertThat(key.status()).as(key.output()).isEqualTo(201);
        String rel = key.json().getString("relativeKeyId");

        WebDriver d = browser();
        signIn(d, "ada");
        // the device's lineage reaches its MEF registration and the key it registered
        d.get(console() + "/console/t/demo/enrolment/gateways/devices/" + device + "/lineage");
        assertThat(d.findElement(By.id("lineage-mef")).getText())
                .contains(regId)
                .contains(rel)
                .contains("SUID 24");
        shot(d, "device-lineage");
        d.get(console() + "/console/t/demo/clients?fn=mef");
        go(d, By.id("lineage-" + regId));
        assertThat(d.findElement(By.id("lineage-keys")).getText())
                .contains(rel)
                .contains("SUID 24")
                .contains("app.demo.example");
        assertThat(d.getPageSource()).doesNotContain("keyValue");
        shot(d, "lineage");
        go(d, By.id("revoke-client"));
        assertThat(d.findElement(By.id("notice")).getText()).contains(regId).contains("revoked");
        assertThat(d.findElement(By.id("clients")).getText()).doesNotContain(regId);
        assertThat(d.findElement(By.id("keys")).getText()).doesNotContain(rel);
        // and the enrolee can no longer retrieve what it registered... nor does the MEF know the registration
        var gone = io.m2mtrust.testsupport.OpenSsl.pskCall(
                listener.port(), mef, kpmId, kpm, "GET", "/clientRegistration/" + regId, null);
        assertThat(gone.status()).isEqualTo(404);
    }

    @Test
    void an_auditor_sees_no_actions_and_another_tenants_admin_sees_nothing() throws Exception {
        WebDriver auditor = browser();
        signIn(auditor, "audrey");
        assertThat(auditor.findElement(By.id("access")).getText()).isEqualTo("read only");
        auditor.get(console() + "/console/t/demo/policy");
        assertThat(auditor.findElements(By.id("save"))).isEmpty();
        assertThat(auditor.findElements(By.cssSelector("fieldset[disabled]"))).hasSize(3); // keys, limits, quotas
        shot(auditor, "policy-auditor");
        // auditors may simulate: a dry run that changes nothing
        auditor.get(
                console() + "/console/t/demo/simulator?operation=ESPRIM_REQUEST&originator=Cnobody&target=%2Fid-in");
        assertThat(auditor.findElement(By.id("verdict")).getText()).contains("Would fail");
        assertThat(auditor.findElement(By.id("notes")).getText())
                .contains("not an entity this tenant's proxy protects");
        shot(auditor, "simulator");
        assertAccessible(auditor);
        auditor.get(console() + "/console/t/demo/enrolment");
        assertThat(auditor.findElements(By.cssSelector("button"))).isEmpty();

        WebDriver other = browser();
        signIn(other, "bob");
        assertThat(other.getCurrentUrl()).endsWith("/console/t/other-co");
        other.get(console() + "/console/t/demo/policy");
        assertThat(other.findElement(By.id("error-message")).getText()).contains("no such tenant");
        assertThat(other.getPageSource()).doesNotContain("maxEsdataTargets");
        other.get(console() + "/console/t/demo/audit");
        assertThat(other.findElement(By.id("error-message")).getText()).contains("no such tenant");
        shot(other, "other-tenant");

        // the API is unchanged by the console's sign-in: no token is 401, never a redirect
        assertThat(RestAssured.given()
                        .redirects()
                        .follow(false)
                        .get("/api/v1/tenants/demo/policy")
                        .statusCode())
                .isEqualTo(401);
    }

    @Test
    void a_tenant_admin_adds_a_person_changes_their_role_and_disables_them_and_a_platform_admin_onboards_a_tenant()
            throws Exception {
        WebDriver d = browser();
        signIn(d, "ada");
        go(d, By.linkText("People"));
        assertThat(d.findElement(By.id("user-ada")).getText())
                .contains("tenant-admin")
                .contains("enabled");
        assertThat(d.findElement(By.id("user-audrey")).getText()).contains("tenant-auditor");
        assertAccessible(d);
        set(d, "new-username", "carl-console");
        new org.openqa.selenium.support.ui.Select(d.findElement(By.id("new-role"))).selectByValue("tenant-auditor");
        set(d, "new-password", "Temp-Carl-1234567");
        go(d, By.id("create-user"));
        assertThat(d.findElement(By.id("notice")).getText())
                .contains("carl-console created")
                .contains("first sign-in");
        assertThat(d.getPageSource()).doesNotContain("Temp-Carl-1234567");
        assertThat(d.findElement(By.id("user-carl-console")).getText())
                .contains("tenant-auditor")
                .contains("choose a password");
        shot(d, "people");

        new org.openqa.selenium.support.ui.Select(d.findElement(By.id("role-carl-console")))
                .selectByValue("tenant-admin");
        d.findElement(By.id("enabled-carl-console")).click();
        go(d, By.id("save-carl-console"));
        assertThat(d.findElement(By.id("notice")).getText())
                .contains("disabled")
                .contains("tenant-admin");
        String ada = RealKeycloakProfile.keycloak.passwordGrant("ada", "ada-demo-password");
        var carl = RestAssured.given()
                .auth()
                .oauth2(ada)
                .get("/api/v1/tenants/demo/users")
                .jsonPath();
        assertThat(carl.getBoolean("find { it.username == 'carl-console' }.enabled"))
                .isFalse();
        assertThat(carl.getList("find { it.username == 'carl-console' }.roles")).containsExactly("tenant-admin");
        // ada cannot lock herself out
        new org.openqa.selenium.support.ui.Select(d.findElement(By.id("role-ada"))).selectByValue("tenant-auditor");
        go(d, By.id("save-ada"));
        assertThat(d.findElement(By.id("error-message")).getText()).contains("your own tenant-admin role");

        // an auditor sees the people and changes nothing
        WebDriver auditor = browser();
        signIn(auditor, "audrey");
        auditor.get(console() + "/console/t/demo/users");
        assertThat(auditor.findElement(By.id("user-ada")).getText()).contains("tenant-admin");
        assertThat(auditor.findElements(By.cssSelector("form"))).isEmpty();

        // a platform admin onboards a tenant with its first admin: Keycloak e-mails the invitation
        WebDriver op = browser();
        signIn(op, "olivia");
        op.get(console() + "/console/tenants");
        set(op, "new-id", "console-co");
        set(op, "new-name", "Console Co");
        set(op, "new-admin-email", "cora@console.example");
        assertAccessible(op);
        go(op, By.id("create-tenant"));
        assertThat(op.getCurrentUrl()).endsWith("/console/t/console-co");
        assertThat(RealKeycloakProfile.mail.awaitTo("cora@console.example", Duration.ofSeconds(20)))
                .isPresent();
        op.get(console() + "/console/t/console-co/users");
        assertThat(op.findElement(By.id("user-cora@console.example")).getText())
                .contains("tenant-admin")
                .contains("choose a password");
        assertThat(op.findElements(By.id("invite-cora@console.example"))).hasSize(1);
        shot(op, "people-new-tenant");
    }
}
