// Validates FHIR R4 JSON resources with the HAPI FHIR instance validator, in one JVM start.
//
// Usage: java -cp 'JARS/*:CLASSES' ValidateFhir CONFORMANCE_DIR RESOURCE_FILE...
// Every *.json file of CONFORMANCE_DIR (CodeSystem, ValueSet, ConceptMap, StructureDefinition)
// is loaded first, so codes of the local code systems and the local profiles validate without
// a terminology server: nothing is fetched from the network. Prints one JSON array to stdout,
// one object per resource file in argument order: {"file", "issues": [{"severity",
// "location", "message"}]}. Exit 0 when it ran (whatever it found), 2 on a usage error.
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;

public final class ValidateFhir {
    private ValidateFhir() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: ValidateFhir CONFORMANCE_DIR RESOURCE_FILE...");
            System.exit(2);
        }
        FhirContext context = FhirContext.forR4();
        PrePopulatedValidationSupport local = new PrePopulatedValidationSupport(context);
        File[] conformance = new File(args[0]).listFiles((dir, name) -> name.endsWith(".json"));
        if (conformance == null) {
            System.err.println("not a folder: " + args[0]);
            System.exit(2);
        }
        Arrays.sort(conformance);
        for (File file : conformance) {
            local.addResource(context.newJsonParser().parseResource(read(file)));
        }
        ValidationSupportChain chain = new ValidationSupportChain(
                new DefaultProfileValidationSupport(context),
                local,
                new CommonCodeSystemsTerminologyService(context),
                new InMemoryTerminologyServerValidationSupport(context),
                new SnapshotGeneratingValidationSupport(context));
        FhirInstanceValidator instanceValidator = new FhirInstanceValidator(chain);
        // No terminology server and no network: codes are checked against what is loaded.
        instanceValidator.setNoTerminologyChecks(false);
        FhirValidator validator = context.newValidator().registerValidatorModule(instanceValidator);

        JsonArray results = new JsonArray();
        for (int i = 1; i < args.length; i++) {
            JsonObject result = new JsonObject();
            result.addProperty("file", args[i]);
            JsonArray issues = new JsonArray();
            ValidationResult outcome = validator.validateWithResult(read(new File(args[i])));
            for (SingleValidationMessage message : outcome.getMessages()) {
                JsonObject issue = new JsonObject();
                issue.addProperty("severity", message.getSeverity().getCode());
                issue.addProperty("location", message.getLocationString());
                issue.addProperty("message", message.getMessage());
                issues.add(issue);
            }
            result.add("issues", issues);
            results.add(result);
        }
        System.out.println(results);
    }

    private static String read(File file) throws Exception {
        return new String(Files.readAllBytes(file.toPath()), StandardCharsets.UTF_8);
    }
}
