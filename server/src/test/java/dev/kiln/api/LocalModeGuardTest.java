package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.support.Json;
import dev.kiln.testing.Http;
import dev.kiln.testing.KilnIntegrationTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * KILN_AUTH=local makes every local request the admin, so a request must really be local: a Host
 * that is not a loopback name (DNS rebinding) or an Origin of another site (a web page posting to
 * localhost) is refused before anything runs. Requests are written on a raw socket, because
 * that is how an attacker's browser sends them and the JDK client will not let a test set Host.
 */
class LocalModeGuardTest extends KilnIntegrationTest {
    private static final String JOB = "{\"model\":\"sandbox-image\",\"prompt\":\"guard\",\"params\":{\"width\":64,\"height\":64}}";

    record Raw(int status, String body) {
        JsonNode json() {
            return Json.parse(body);
        }
    }

    Raw raw(String method, String path, String host, String origin, String body) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
            StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n");
            if (origin != null) req.append("Origin: ").append(origin).append("\r\n");
            if (body != null) req.append("Content-Type: application/json\r\nContent-Length: ").append(b.length).append("\r\n");
            req.append("\r\n");
            OutputStream out = s.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.US_ASCII));
            out.write(b);
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            String text = all.toString(StandardCharsets.UTF_8);
            int status = Integer.parseInt(text.substring(9, 12));
            int split = text.indexOf("\r\n\r\n");
            String rest = text.substring(split + 4);
            // Chunked bodies: keep the JSON between the first '{' and the last '}'.
            int open = rest.indexOf('{');
            int close = rest.lastIndexOf('}');
            return new Raw(status, open >= 0 && close > open ? rest.substring(open, close + 1) : rest);
        }
    }

    @Test
    void aHostThatIsNotALoopbackNameIsRefused() throws Exception {
        for (String host : new String[] {"evil.example:" + port, "127.0.0.1.nip.io:" + port, "kiln.internal", "localhost.evil.example"}) {
            Raw r = raw("GET", "/v1/jobs", host, null, null);
            assertThat(r.status()).as(host).isEqualTo(403);
            assertThat(r.json().get("code").asString()).isEqualTo("forbidden");
            assertThat(r.json().get("detail").asString()).contains("loopback");
        }
        int before = http.get("/v1/jobs?limit=200").json().get("items").size();
        assertThat(raw("POST", "/v1/jobs", "rebound.example", null, JOB).status()).isEqualTo(403);
        assertThat(http.get("/v1/jobs?limit=200").json().get("items").size()).isEqualTo(before);
        for (String host : new String[] {"localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, "kiln.localhost:" + port, "127.1.2.3"}) {
            assertThat(raw("GET", "/v1/jobs", host, null, null).status()).as(host).isEqualTo(200);
        }
    }

    @Test
    void aRequestFromAnotherSitesPageIsRefused() throws Exception {
        int before = http.get("/v1/jobs?limit=200").json().get("items").size();
        for (String origin : new String[] {"http://evil.example", "https://localhost.evil.example", "null", "file://"}) {
            Raw r = raw("POST", "/v1/jobs", "localhost:" + port, origin, JOB);
            assertThat(r.status()).as(origin).isEqualTo(403);
            assertThat(r.json().get("detail").asString()).contains("Origin");
        }
        assertThat(http.get("/v1/jobs?limit=200").json().get("items").size()).isEqualTo(before);
        // A page served from this machine may call it.
        assertThat(raw("POST", "/v1/jobs", "localhost:" + port, "http://localhost:" + port, JOB).status()).isEqualTo(202);
        assertThat(raw("POST", "/v1/jobs", "127.0.0.1:" + port, "http://127.0.0.1:5173", JOB).status()).isEqualTo(202);
    }

    @Test
    void providerWebhooksStillReachALocalKilnThroughAnyName() throws Exception {
        // Providers call PUBLIC_BASE_URL (a tunnel's name): the guard lets webhooks through, and
        // they are checked by their own signature or token.
        Raw r = raw("POST", "/webhooks/wavespeed?token=nope", "tunnel.example", null, "{}");
        assertThat(r.status()).isNotEqualTo(403);
        assertThat(r.body()).doesNotContain("loopback");
    }

    @Test
    void localModeHasNoLoginsAndNoCors() {
        Http.Answer login = http.post("/v1/auth/login", "{\"username\":\"a\",\"password\":\"b\"}");
        assertThat(login.status()).isEqualTo(409);
        assertThat(login.json().get("detail").asString()).contains("KILN_AUTH=local");
        JsonNode me = http.get("/v1/me").json();
        assertThat(me.get("role").asString()).isEqualTo("admin");
        assertThat(me.get("metered").asBoolean()).isFalse();
        Http.Answer pre = http.send(HttpRequest.newBuilder(http.uri("/v1/jobs")).method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", "http://localhost:3000").header("Access-Control-Request-Method", "POST").build());
        assertThat(pre.header("Access-Control-Allow-Origin")).isNull();
    }
}
