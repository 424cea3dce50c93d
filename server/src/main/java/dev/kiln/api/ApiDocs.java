package dev.kiln.api;

import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.info.BuildProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The title, version and first steps shown at {@code /docs} and in {@code /openapi.json}. */
@Configuration(proxyBeanMethods = false)
class ApiDocs {
    static final String DESCRIPTION = """
            Kiln is a self-hosted gateway for batch AI image and video generation: one API in front of \
            WaveSpeed, Replicate, fal, RunPod (worker-comfyui) and your own ComfyUI servers.

            **Start.** `./kiln serve` starts Kiln on `http://localhost:8080`. With no provider configured it \
            runs in the *sandbox*: built-in emulators of every provider render real images and videos offline, \
            so every model can be tried without keys (`KILN_SANDBOX=auto`).

            **First run.**
            1. `GET /v1/models` lists the models with their modes and parameters.
            2. `POST /v1/runs` with `{"model":"sandbox-image","prompts":["a red fox"],"count":2}` answers 202 with the run.
            3. `GET /v1/runs/{id}` until its status is no longer `running` (or follow `GET /v1/events?run={id}`).

            **Outputs.** Each job's `outputs[].url` is `/v1/assets/{id}` (the bytes; `/thumbnail` for a preview). \
            Kiln keeps its own copy of every output, content-addressed under `KILN_DATA_DIR/assets` \
            (`./data` by default), next to the embedded database.

            **Errors** are `application/problem+json` with a `code` and one entry per bad field in `errors`.""";

    @Bean
    OpenAPI kilnOpenApi(ObjectProvider<BuildProperties> build) {
        BuildProperties b = build.getIfAvailable();
        return new OpenAPI().info(new Info()
                .title("Kiln API")
                .version(b == null || b.getVersion() == null ? "development build" : b.getVersion())
                .description(DESCRIPTION));
    }
}
