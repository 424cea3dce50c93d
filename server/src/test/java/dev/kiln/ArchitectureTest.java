package dev.kiln;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The package boundaries of docs/ARCHITECTURE.md, checked. */
class ArchitectureTest {
    static final JavaClasses KILN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.kiln");

    @Test
    void featurePackagesHaveNoCycles() {
        slices().matching("dev.kiln.(*)..").should().beFreeOfCycles().check(KILN);
    }

    @Test
    void providerAdaptersKnowNothingOfJobsAccountsOrTheApi() {
        noClasses().that().resideInAPackage("dev.kiln.provider..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.kiln.job..", "dev.kiln.run..", "dev.kiln.engine..",
                        "dev.kiln.api..", "dev.kiln.account..", "dev.kiln.asset..", "dev.kiln.db..")
                .check(KILN);
    }

    @Test
    void theCatalogueIsPureData() {
        noClasses().that().resideInAPackage("dev.kiln.catalog..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.kiln.job..", "dev.kiln.run..", "dev.kiln.engine..",
                        "dev.kiln.api..", "dev.kiln.account..", "dev.kiln.asset..", "dev.kiln.sandbox..")
                .check(KILN);
    }

    @Test
    void theJobCoreDoesNotReachIntoTheEngineOrTheApi() {
        noClasses().that().resideInAnyPackage("dev.kiln.job..", "dev.kiln.run..", "dev.kiln.account..", "dev.kiln.asset..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.kiln.engine..", "dev.kiln.api..", "dev.kiln.sandbox..")
                .check(KILN);
    }

    @Test
    void onlyTheApiServesHttp() {
        noClasses().that().resideOutsideOfPackages("dev.kiln.api..", "dev.kiln.asset..")
                .should().beAnnotatedWith(org.springframework.web.bind.annotation.RestController.class)
                .check(KILN);
    }
}
