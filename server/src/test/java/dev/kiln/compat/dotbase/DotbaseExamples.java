package dev.kiln.compat.dotbase;

/**
 * The examples of the {@code .base} API documentation, exactly as that documentation gives them
 * (curl, TypeScript, Python, SQL). {@link SeedExamples} runs them.
 */
final class DotbaseExamples {
    private DotbaseExamples() {}

    /** The id the documentation uses in its examples. */
    static final String DOC_ID = "550e8400-e29b-41d4-a716-446655440000";
    /** The image URL the documentation uses as a placeholder. */
    static final String DOC_IMAGE = "https://your-image-url.jpg";

    // ---- models

    static final String CURL_MODELS_ALL = """
            curl http://localhost:3000/api/models/list
            """;

    static final String CURL_MODELS_CREATE = """
            curl http://localhost:3000/api/models/list?action=create
            """;

    // ---- create

    static final String JS_CREATE = """
            const response = await fetch('/api/generations/create', {
              method: 'POST',
              headers: {
                'Content-Type': 'application/json',
              },
              body: JSON.stringify({
                action: 'create',
                model_id: 'flux-schnell',
                prompt: 'A serene mountain landscape at sunset',
                settings: {
                  aspect_ratio: '16:9',
                  num_outputs: 1,
                  output_format: 'webp',
                  output_quality: 80
                }
              })
            });

            const data = await response.json();
            console.log('Generation ID:', data.id);
            """;

    static final String CURL_CREATE = """
            curl -X POST http://localhost:3000/api/generations/create \\
              -H "Content-Type: application/json" \\
              -d '{
                "action": "create",
                "model_id": "flux-schnell",
                "prompt": "A beautiful sunset over mountains",
                "settings": {
                  "aspect_ratio": "16:9",
                  "num_outputs": 1
                }
              }'
            """;

    static final String PYTHON_CREATE = """
            import requests

            response = requests.post(
                'http://localhost:3000/api/generations/create',
                json={
                    'action': 'create',
                    'model_id': 'flux-schnell',
                    'prompt': 'A beautiful sunset over mountains',
                    'settings': {
                        'aspect_ratio': '16:9',
                        'num_outputs': 1
                    }
                }
            )

            data = response.json()
            print(f"Generation ID: {data['id']}")
            """;

    // ---- status

    static final String CURL_GET = """
            curl http://localhost:3000/api/generations/550e8400-e29b-41d4-a716-446655440000
            """;

    static final String JS_GET = """
            const generationId = '550e8400-e29b-41d4-a716-446655440000';

            const response = await fetch(`/api/generations/${generationId}`);
            const generation = await response.json();

            console.log('Status:', generation.status);
            if (generation.status === 'completed') {
              console.log('Output URLs:', generation.output_urls);
            }
            """;

    // ---- list

    static final String CURL_LIST = """
            curl http://localhost:3000/api/generations/list
            """;

    static final String CURL_LIST_PAGE_2 = """
            curl http://localhost:3000/api/generations/list?page=2
            """;

    static final String CURL_LIST_COMPLETED = """
            curl http://localhost:3000/api/generations/list?status=completed
            """;

    static final String CURL_LIST_CREATE = """
            curl http://localhost:3000/api/generations/list?action=create
            """;

    static final String JS_LIST = """
            async function fetchGenerations(page = 1, action?: string) {
              const params = new URLSearchParams({
                page: page.toString(),
                limit: '20',
                ...(action && { action })
              });

              const response = await fetch(`/api/generations/list?${params}`);
              const data = await response.json();

              return data;
            }

            // Использование
            const result = await fetchGenerations(1, 'create');
            console.log(`Всего: ${result.total}`);
            console.log(`Страниц: ${result.totalPages}`);
            result.generations.forEach(gen => {
              console.log(`${gen.id}: ${gen.status}`);
            });
            """;

    // ---- delete

    static final String CURL_DELETE = """
            curl -X DELETE http://localhost:3000/api/generations/550e8400-e29b-41d4-a716-446655440000
            """;

    static final String JS_DELETE = """
            async function deleteGeneration(id: string) {
              const response = await fetch(`/api/generations/${id}`, {
                method: 'DELETE'
              });

              if (response.ok) {
                console.log('Generation deleted');
              }
            }
            """;

    // ---- webhook (the body Replicate sends, as the documentation shows it)

    static final String WEBHOOK_BODY = """
            {
              "id": "prediction-id",
              "status": "succeeded",
              "output": ["https://replicate.delivery/..."],
              "metrics": {
                "predict_time": 5.23
              }
            }
            """;

    // ---- the four models

    static final String JS_FLUX = """
            const response = await fetch('/api/generations/create', {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({
                action: 'create',
                model_id: 'flux-schnell',
                prompt: 'A futuristic city at night with neon lights',
                settings: {
                  aspect_ratio: '16:9',
                  num_outputs: 2,
                  output_format: 'webp',
                  output_quality: 90
                }
              })
            });
            """;

    static final String JS_ESRGAN = """
            const response = await fetch('/api/generations/create', {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({
                action: 'upscale',
                model_id: 'real-esrgan',
                input_image_url: 'https://your-image-url.jpg',
                settings: {
                  scale: 4,
                  face_enhance: true
                }
              })
            });
            """;

    static final String JS_NANO = """
            const response = await fetch('/api/generations/create', {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({
                action: 'edit',
                model_id: 'nano-banana-edit',
                prompt: 'Change the sky to sunset colors',
                input_image_url: 'https://your-image-url.jpg',
                settings: {}
              })
            });
            """;

    static final String JS_BIREFNET = """
            const response = await fetch('/api/generations/create', {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({
                action: 'remove_bg',
                model_id: 'birefnet',
                input_image_url: 'https://your-image-url.jpg',
                settings: {}
              })
            });
            """;

    // ---- polling

    static final String JS_POLL = """
            async function waitForGeneration(id: string, maxAttempts = 60) {
              for (let i = 0; i < maxAttempts; i++) {
                const response = await fetch(`/api/generations/${id}`);
                const generation = await response.json();

                if (generation.status === 'completed') {
                  return generation;
                }

                if (generation.status === 'failed') {
                  throw new Error(generation.error_message);
                }

                // Ждем 2 секунды перед следующей проверкой
                await new Promise(resolve => setTimeout(resolve, 2000));
              }

              throw new Error('Timeout waiting for generation');
            }

            // Использование
            const generation = await waitForGeneration(generationId);
            console.log('Output:', generation.output_urls);
            """;

    // ---- token statistics (admin SQL)

    static final String SQL_TOKEN_STATS = """
            SELECT\s
              id,
              is_active,
              request_count,
              error_count,
              last_used_at,
              ROUND(error_count::numeric / NULLIF(request_count, 0) * 100, 2) as error_rate_percent
            FROM replicate_tokens
            ORDER BY request_count DESC;
            """;

    static final String SQL_TOKEN_TOTALS = """
            SELECT\s
              COUNT(*) as total_tokens,
              COUNT(*) FILTER (WHERE is_active = true) as active_tokens,
              SUM(request_count) as total_requests,
              SUM(error_count) as total_errors
            FROM replicate_tokens;
            """;

    /**
     * A request's JSON printed, for the create examples that do not print it themselves (the four
     * model examples end at the fetch): appended to them, like a caller reading the answer.
     */
    static final String JS_PRINT_RESPONSE = """

            console.log(JSON.stringify({ status: response.status, body: await response.json() }));
            """;
}
