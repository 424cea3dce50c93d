package dev.kiln.emulator.airtable;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.emulator.testing.Http;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The Airtable emulator answers as Airtable's Web API reference documents, limits included. */
class AirtableEmulatorTest {
    final AirtableEmulator at = AirtableEmulator.start(AirtableEmulator.Config.defaults().withLockout(Duration.ofMillis(1500)));
    final Http http = new Http(at.baseUrl());
    final Map<String, String> auth = Map.of("Authorization", "Bearer " + at.config().token());
    final String table = "/v0/" + at.config().baseId() + "/Generations";

    @AfterEach
    void stop() {
        at.close();
    }

    Http.Answer send(String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(http.uri(path)).header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + at.config().token());
        return http.send(b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build());
    }

    @Test
    void createsUpdatesAndListsRecordsWithTypedFields() throws Exception {
        Http.Answer c = http.post(table, """
                {"records":[{"fields":{"Prompt":"a city","Status":"processing","Run ID":"run-1","Created At":"2026-12-06T10:00:00Z","Failed IDs":""}}],
                 "typecast":true}""", auth);
        assertThat(c.status()).as(c.toString()).isEqualTo(200);
        JsonNode rec = c.json().path("records").get(0);
        String id = rec.path("id").asString();
        assertThat(id).startsWith("rec").hasSize(17);
        assertThat(rec.path("createdTime").asString()).isNotEmpty();
        assertThat(rec.path("fields").has("Failed IDs")).as("empty cells are left out").isFalse();

        Http.Answer u = send("PATCH", table, "{\"records\":[{\"id\":\"" + id + "\",\"fields\":{\"Status\":\"completed\",\"Request IDs\":\"a,b\"}}]}");
        assertThat(u.status()).as(u.toString()).isEqualTo(200);
        JsonNode got = send("GET", table + "/" + id, null).json();
        assertThat(got.path("fields").path("Prompt").asString()).as("PATCH keeps what it does not name").isEqualTo("a city");
        assertThat(got.path("fields").path("Status").asString()).isEqualTo("completed");
        assertThat(got.path("fields").path("Request IDs").asString()).isEqualTo("a,b");

        JsonNode list = send("GET", table + "?pageSize=1", null).json();
        assertThat(list.path("records")).hasSize(1);
        assertThat(list.has("offset")).isFalse();
    }

    @Test
    void refusesWhatAirtableRefusesInItsErrorShape() {
        Http.Answer noAuth = http.get(table);
        assertThat(noAuth.status()).isEqualTo(401);
        assertThat(noAuth.json().path("error").path("type").asString()).isEqualTo("AUTHENTICATION_REQUIRED");

        Http.Answer badBase = send("GET", "/v0/appNOPE/Generations", null);
        assertThat(badBase.status()).isEqualTo(403);
        assertThat(badBase.json().path("error").path("type").asString()).isEqualTo("INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND");

        Http.Answer unknown = http.post(table, "{\"records\":[{\"fields\":{\"Colour\":\"red\"}}]}", auth);
        assertThat(unknown.status()).isEqualTo(422);
        assertThat(unknown.json().path("error").path("type").asString()).isEqualTo("UNKNOWN_FIELD_NAME");

        Http.Answer option = http.post(table, "{\"records\":[{\"fields\":{\"Status\":\"archived\"}}]}", auth);
        assertThat(option.status()).as("a new select option needs typecast").isEqualTo(422);
        assertThat(option.json().path("error").path("type").asString()).isEqualTo("INVALID_MULTIPLE_CHOICE_OPTIONS");
        assertThat(http.post(table, "{\"records\":[{\"fields\":{\"Status\":\"archived\"}}],\"typecast\":true}", auth).status()).isEqualTo(200);

        Http.Answer attachment = http.post(table, "{\"records\":[{\"fields\":{\"Output\":\"not a list\"}}]}", auth);
        assertThat(attachment.json().path("error").path("type").asString()).isEqualTo("INVALID_VALUE_FOR_COLUMN");

        StringBuilder eleven = new StringBuilder("{\"records\":[");
        for (int i = 0; i < 11; i++) eleven.append(i == 0 ? "" : ",").append("{\"fields\":{\"Prompt\":\"p").append(i).append("\"}}");
        Http.Answer tooMany = http.post(table, eleven + "]}", auth);
        assertThat(tooMany.status()).isEqualTo(422);
        assertThat(tooMany.json().path("error").path("type").asString()).isEqualTo("INVALID_RECORDS");
        assertThat(at.records()).hasSize(1);
    }

    @Test
    void fiveRequestsASecondPerBaseThen429ForTheLockout() throws Exception {
        for (int i = 0; i < 5; i++) assertThat(send("GET", table, null).status()).isEqualTo(200);
        Http.Answer limited = send("GET", table, null);
        assertThat(limited.status()).isEqualTo(429);
        assertThat(limited.json().path("error").path("type").asString()).isEqualTo("RATE_LIMIT_REACHED");
        Thread.sleep(1100);
        assertThat(send("GET", table, null).status()).as("still locked out, though the second has passed").isEqualTo(429);
        Thread.sleep(1600);
        assertThat(send("GET", table, null).status()).isEqualTo(200);
    }

    @Test
    void uploadAttachmentAppendsTheFileAndAnswersFieldsById() {
        String id = http.post(table, "{\"fields\":{\"Prompt\":\"x\"}}", auth).json().path("id").asString();
        byte[] file = {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3};
        String body = "{\"contentType\":\"image/png\",\"file\":\"" + Base64.getEncoder().encodeToString(file) + "\",\"filename\":\"a.png\"}";
        Http.Answer up = http.post("/v0/" + at.config().baseId() + "/" + id + "/Output/uploadAttachment", body, auth);
        assertThat(up.status()).as(up.toString()).isEqualTo(200);
        assertThat(up.json().path("id").asString()).isEqualTo(id);
        JsonNode cell = up.json().path("fields").properties().iterator().next().getValue();
        assertThat(up.json().path("fields").propertyNames().iterator().next()).startsWith("fld");
        assertThat(cell.get(0).path("filename").asString()).isEqualTo("a.png");
        assertThat(cell.get(0).path("size").asInt()).isEqualTo(file.length);
        http.post("/v0/" + at.config().baseId() + "/" + id + "/Output/uploadAttachment", body, auth);
        JsonNode rec = send("GET", table + "/" + id, null).json();
        assertThat(rec.path("fields").path("Output")).hasSize(2);
        assertThat(http.get(rec.path("fields").path("Output").get(0).path("url").asString().replace(at.baseUrl(), "")).body()).isEqualTo(file);
    }

    @Test
    void downAnswers503() {
        at.down(true);
        Http.Answer a = send("GET", table, null);
        assertThat(a.status()).isEqualTo(503);
        assertThat(a.json().path("error").path("type").asString()).isEqualTo("SERVICE_UNAVAILABLE");
        at.down(false);
        assertThat(send("GET", table, null).status()).isEqualTo(200);
    }
}
