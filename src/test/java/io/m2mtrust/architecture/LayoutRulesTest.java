package io.m2mtrust.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;
import jakarta.persistence.Entity;
import jakarta.persistence.EntityManager;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The three rings of {@code docs/architecture.md} as rules over the compiled main classes: a change that adds a
 * package cycle, reaches into another package's entity, makes the kernel depend on a feature, or uses PKCS#11,
 * the Keycloak admin client, Bouncy Castle TLS or Nimbus outside their one home fails here with the offending
 * class and member.
 */
class LayoutRulesTest {

    static final String ROOT = "io.m2mtrust";
    static final String[] KERNEL = {
        "hsm", "common", "cluster", "security", "audit", "keys", "tenant", "policy", "keysource", "quota"
    };
    static final String[] FEATURES = {
        "enrolment", "mef", "registration", "maf", "ca", "tls", "escertke", "esdata", "esprim", "identity"
    };
    static final String[] EDGES = {"proxy", "console", "lineage", "onboarding", "web"};
    /** Kernel entities every package may read (LAYOUT rule 2). */
    static final Set<String> READABLE_EVERYWHERE = Set.of(ROOT + ".tenant.Tenant", ROOT + ".policy.TenantPolicy");

    static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
                .importPackages(ROOT);
        assertThat(main.size()).as("main classes imported").isGreaterThan(100);
    }

    static String[] packages(String... names) {
        return Stream.of(names).map(n -> ROOT + "." + n + "..").toArray(String[]::new);
    }

    static void check(ArchRule rule) {
        assertThat(violations(rule)).as(rule.getDescription()).isEmpty();
    }

    static List<String> violations(ArchRule rule) {
        EvaluationResult result = rule.evaluate(main);
        return result.getFailureReport().getDetails();
    }

    @Test
    void every_package_under_the_root_belongs_to_one_ring() {
        Set<String> known = new java.util.HashSet<>();
        for (String[] ring : List.of(KERNEL, FEATURES, EDGES)) {
            known.addAll(List.of(ring));
        }
        List<String> unplaced = main.stream()
                .map(c -> c.getPackageName())
                .filter(p -> !p.equals(ROOT))
                .map(p -> p.substring(ROOT.length() + 1).split("\\.")[0])
                .filter(p -> !known.contains(p))
                .distinct()
                .toList();
        assertThat(unplaced)
                .as("packages in no ring (add them to docs/architecture.md and here)")
                .isEmpty();
    }

    @Test
    void no_package_cycles() {
        check(slices().matching(ROOT + ".(*)..").should().beFreeOfCycles());
    }

    @Test
    void the_kernel_imports_only_the_kernel() {
        check(noClasses()
                .that()
                .resideInAnyPackage(packages(KERNEL))
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(packages(concat(FEATURES, EDGES))));
    }

    @Test
    void no_kernel_or_feature_class_imports_an_edge() {
        check(noClasses()
                .that()
                .resideInAnyPackage(packages(concat(KERNEL, FEATURES)))
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(packages(EDGES)));
    }

    /** The console is the outermost edge (ADR 0017): it shows what the other edges do; nothing imports it. */
    @Test
    void edges_import_no_edge_but_the_console_and_nothing_imports_the_console() {
        for (String edge : EDGES) {
            if (edge.equals("console")) {
                continue;
            }
            check(noClasses()
                    .that()
                    .resideInAnyPackage(packages(EDGES))
                    .and()
                    .resideOutsideOfPackages(packages("console", edge))
                    .should()
                    .dependOnClassesThat()
                    .resideInAPackage(ROOT + "." + edge + ".."));
        }
        check(noClasses()
                .that()
                .resideOutsideOfPackage(ROOT + ".console..")
                .should()
                .dependOnClassesThat()
                .resideInAPackage(ROOT + ".console.."));
    }

    @Test
    void an_entity_is_touched_only_by_its_own_package() {
        List<String> found = new ArrayList<>();
        for (JavaClass entity : main.stream()
                .filter(c -> c.isAnnotatedWith(Entity.class))
                .filter(c -> !READABLE_EVERYWHERE.contains(c.getName()))
                .toList()) {
            found.addAll(violations(noClasses()
                    .that()
                    .resideOutsideOfPackage(entity.getPackageName())
                    .should()
                    .dependOnClassesThat(belongTo(entity))));
        }
        assertThat(found).as("entities touched outside their own package").isEmpty();
    }

    /** A call that runs a query written as a string: JPQL or SQL through the EntityManager, or Panache's forms. */
    static final DescribedPredicate<JavaMethodCall> A_QUERY_STRING = new DescribedPredicate<>("a JPQL or SQL query") {
        @Override
        public boolean test(JavaMethodCall call) {
            var target = call.getTarget();
            JavaClass owner = target.getOwner();
            String name = target.getName();
            boolean entityManager = (owner.isAssignableTo(EntityManager.class)
                            || owner.getPackageName().startsWith("org.hibernate"))
                    && name.startsWith("create")
                    && name.contains("Query");
            boolean panache =
                    (owner.isAssignableTo(PanacheEntityBase.class) || owner.isAssignableTo(PanacheRepositoryBase.class))
                            && Set.of("find", "list", "stream", "count", "delete", "update")
                                    .contains(name)
                            && !target.getRawParameterTypes().isEmpty()
                            && target.getRawParameterTypes().get(0).isEquivalentTo(String.class);
            return entityManager || panache;
        }
    };

    /**
     * Each feature owns its data: the queries over its tables are written in its store (a class named
     * {@code *Store} or {@code *Repository}) and nowhere else, so a reader finds every query over a table in one file.
     */
    @Test
    void queries_are_written_only_in_stores_and_repositories() {
        long inStores = main.stream()
                .flatMap(c -> c.getMethodCallsFromSelf().stream())
                .filter(A_QUERY_STRING)
                .count();
        assertThat(inStores).as("queries found at all (the rule sees them)").isGreaterThan(50);
        check(noClasses()
                .that()
                .haveSimpleNameNotEndingWith("Store")
                .and()
                .haveSimpleNameNotEndingWith("Repository")
                .should()
                .callMethodWhere(A_QUERY_STRING));
    }

    /**
     * Results that mean "verified", "opened" or "authenticated" come only from the code that checked (as Tink's
     * primitives do): their constructors are not public, so no caller can make one up.
     */
    @Test
    void verified_results_are_made_only_by_their_verifier() {
        List<String> verified = List.of(
                ROOT + ".esdata.JoseEnvelopes$Verified",
                ROOT + ".escertke.PeerCertificates$Verified",
                ROOT + ".esprim.EsprimReceiver$Opened",
                ROOT + ".ca.CsrCheck$Accepted",
                ROOT + ".audit.ChainVerification",
                ROOT + ".tls.DevicePeer");
        for (String name : verified) {
            JavaClass c = main.get(name);
            assertThat(c.getConstructors())
                    .as(name + " has constructors")
                    .isNotEmpty()
                    .allSatisfy(k -> assertThat(k.getModifiers())
                            .as(k.getFullName())
                            .doesNotContain(JavaModifier.PUBLIC, JavaModifier.PROTECTED));
            assertThat(c.isRecord())
                    .as(name + " is a record (its canonical constructor is public)")
                    .isFalse();
        }
    }

    @Test
    void pkcs11_only_in_hsm() {
        check(noClasses()
                .that()
                .resideOutsideOfPackage(ROOT + ".hsm..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("sun.security.pkcs11..", "jdk.crypto.cryptoki.."));
    }

    @Test
    void the_keycloak_admin_client_only_in_identity() {
        check(noClasses()
                .that()
                .resideOutsideOfPackage(ROOT + ".identity..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("org.keycloak.admin.client..", "org.keycloak.representations.."));
    }

    @Test
    void bouncy_castle_tls_only_in_tls_and_escertke() {
        check(noClasses()
                .that()
                .resideOutsideOfPackages(packages("tls", "escertke"))
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("org.bouncycastle.tls.."));
    }

    /** DTLS and CoAP (ADR 0025) stay behind the device listener and, for the oneM2M CoAP binding, the proxy. */
    @Test
    void californium_only_in_tls_and_proxy() {
        check(noClasses()
                .that()
                .resideOutsideOfPackages(packages("tls", "proxy"))
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("org.eclipse.californium.."));
    }

    @Test
    void nimbus_only_in_esdata_and_esprim() {
        check(noClasses()
                .that()
                .resideOutsideOfPackages(packages("esdata", "esprim"))
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("com.nimbusds.."));
    }

    /** Imports are the truth about a file's dependencies (LAYOUT rule 5); ArchUnit cannot see source text. */
    @Test
    void no_inline_fully_qualified_names_of_project_classes() throws IOException {
        Pattern inline = Pattern.compile("(?<![\\w.])io\\.m2mtrust\\.[a-z.]+\\.[A-Z]\\w*");
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                int n = 0;
                for (String line : Files.readAllLines(f)) {
                    n++;
                    if (line.startsWith("import ") || line.startsWith("package ")) {
                        continue;
                    }
                    Matcher m = inline.matcher(line);
                    while (m.find()) {
                        found.add(f + ":" + n + " " + m.group());
                    }
                }
            }
        }
        assertThat(found).as("inline project class names (import them instead)").isEmpty();
    }

    static DescribedPredicate<JavaClass> belongTo(JavaClass entity) {
        return DescribedPredicate.describe(
                entity.getName() + " or its nested classes",
                c -> c.getName().equals(entity.getName()) || c.getName().startsWith(entity.getName() + "$"));
    }

    static String[] concat(String[] a, String[] b) {
        return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
    }
}
