package dev.kiln;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackages;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The package boundaries of docs/ARCHITECTURE.md, checked (Kiln and the emulators module, tests excluded). */
class ArchitectureTest {
    static final JavaClasses KILN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.kiln");

    /** Every package is its own slice, sub-packages included, so {@code provider} ↔ {@code provider.wavespeed} is a cycle too. */
    @Test
    void noPackageCycles() {
        slices().matching("dev.kiln.(**)").should().beFreeOfCycles().check(KILN);
    }

    @Test
    void providerAdaptersKnowNothingOfJobsAccountsOrTheApi() {
        noClasses().that().resideInAPackage("dev.kiln.provider..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.kiln.job..", "dev.kiln.run..", "dev.kiln.engine..",
                        "dev.kiln.api..", "dev.kiln.account..", "dev.kiln.asset..", "dev.kiln.db..")
                .check(KILN);
    }

    /** An adapter ({@code provider.<name>}) uses only the provider SPI ({@code provider}) and {@code support}. */
    @Test
    void adaptersDependOnlyOnTheProviderSpiAndSupport() {
        noClasses().that().resideInAPackage("dev.kiln.provider.*..")
                .should().dependOnClassesThat(resideInAPackage("dev.kiln..")
                        .and(resideOutsideOfPackages("dev.kiln.provider..", "dev.kiln.support..")))
                .check(KILN);
    }

    @Test
    void providerAdaptersDoNotDependOnEachOther() {
        slices().matching("dev.kiln.provider.(*)..").should().notDependOnEachOther().check(KILN);
    }

    /** Only the sandbox wiring starts emulators; the rest of Kiln must work the same against real providers. */
    @Test
    void onlyTheSandboxWiringKnowsTheEmulators() {
        noClasses().that().resideInAPackage("dev.kiln..").and().resideOutsideOfPackages("dev.kiln.sandbox..", "dev.kiln.emulator..")
                .should().dependOnClassesThat().resideInAPackage("dev.kiln.emulator..")
                .check(KILN);
    }

    /** The emulators know nothing of Kiln (their module does not depend on it; this says so where the rules are). */
    @Test
    void theEmulatorsKnowNothingOfKiln() {
        noClasses().that().resideInAPackage("dev.kiln.emulator..")
                .should().dependOnClassesThat(resideInAPackage("dev.kiln..").and(resideOutsideOfPackages("dev.kiln.emulator..")))
                .check(KILN);
    }

    static final String[] SHARED_EMULATOR_PLUMBING = {"dev.kiln.emulator.http..", "dev.kiln.emulator.support..",
            "dev.kiln.emulator.hosted..", "dev.kiln.emulator.comfy..", "dev.kiln.emulator.render.."};

    /**
     * One emulated service does not lean on another's emulator; shared plumbing lives in its own
     * packages. The one exception is what RunPod itself does: a pod runs a ComfyUI server, so the
     * RunPod pods emulator starts ComfyUI emulators.
     */
    @Test
    void emulatedServicesDoNotDependOnEachOther() {
        slices().matching("dev.kiln.emulator.(*)..").should().notDependOnEachOther()
                .ignoreDependency(DescribedPredicate.alwaysTrue(), resideInAnyPackage(SHARED_EMULATOR_PLUMBING))
                .ignoreDependency(resideInAPackage("dev.kiln.emulator.runpodpods.."), resideInAPackage("dev.kiln.emulator.comfyui.."))
                .check(KILN);
    }

    @Test
    void theCatalogueIsPureData() {
        noClasses().that().resideInAPackage("dev.kiln.catalog..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.kiln.job..", "dev.kiln.run..", "dev.kiln.engine..",
                        "dev.kiln.api..", "dev.kiln.account..", "dev.kiln.asset..", "dev.kiln.sandbox..", "dev.kiln.emulator..")
                .check(KILN);
    }

    @Test
    void theJobCoreDoesNotReachIntoTheEngineOrTheApi() {
        noClasses().that().resideInAnyPackage("dev.kiln.job..", "dev.kiln.run..", "dev.kiln.account..", "dev.kiln.asset..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.kiln.engine..", "dev.kiln.api..", "dev.kiln.sandbox..")
                .check(KILN);
    }

    @Test
    void onlyTheApiAndTheSeedFacadesServeHttp() {
        noClasses().that().resideOutsideOfPackages("dev.kiln.api..", "dev.kiln.asset..", "dev.kiln.compat..", "dev.kiln.web..")
                .should().beAnnotatedWith(org.springframework.web.bind.annotation.RestController.class)
                .check(KILN);
    }

    @Test
    void theCoreKnowsNothingOfTheSeedFacades() {
        noClasses().that().resideInAPackage("dev.kiln..").and().resideOutsideOfPackages("dev.kiln.compat..")
                .should().dependOnClassesThat().resideInAPackage("dev.kiln.compat..")
                .check(KILN);
    }

    @Test
    void seedFacadesDoNotDependOnEachOther() {
        // Each façade is a thin translation onto the core; what two share lives in dev.kiln.compat itself.
        slices().matching("dev.kiln.compat.(*)..").should().notDependOnEachOther().allowEmptyShould(true).check(KILN);
    }
}
