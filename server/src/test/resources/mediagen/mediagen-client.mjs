// MediaGen's client code from its integration guide, run against Kiln by MediaGenSeedExamplesTest.
// The functions below are the guide's TypeScript with only the type annotations removed; the one
// line changed is the base URL (API_BASE_URL). Usage: node mediagen-client.mjs '<json list of UI states>'
const API_BASE_URL = process.env.KILN_URL;
const API_KEY = process.env.REACT_APP_API_KEY || "YOUR_API_KEY_HERE";

async function callGenerateAPI(
  payload,
  onProgress
) {
  
  // Start generation
  const response = await fetch(`${API_BASE_URL}/generate`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "Authorization": `Bearer ${API_KEY}`,
    },
    body: JSON.stringify(payload),
  });

  if (!response.ok) {
    const error = await response.json();
    throw new Error(error.error || "Generation failed");
  }

  const data = await response.json();
  
  // If async generation with polling:
  if (data.job_id) {
    return await pollJobStatus(data.job_id, onProgress);
  }
  
  // If synchronous:
  return data;
}

async function pollJobStatus(
  jobId,
  onProgress
) {
  
  while (true) {
    const response = await fetch(`${API_BASE_URL}/status/${jobId}`, {
      headers: { "Authorization": `Bearer ${API_KEY}` },
    });
    
    const data = await response.json();
    
    if (data.progress !== undefined) {
      onProgress(data.progress);
    }
    
    if (data.status === "completed") {
      return data.result;
    }
    
    if (data.status === "failed") {
      throw new Error(data.error || "Generation failed");
    }
    
    // Poll every 500ms
    await new Promise(r => setTimeout(r, 500));
  }
}

// The payload handleGenerate (MediaGenApp.tsx) builds from the UI's state, as the guide shows it.
function buildPayload(s) {
  const { generationType, videoModel, imageModel, videoMode, imageMode, prompt, negativePrompt, width, height, seed,
          batchSize, outputFormat, numFrames, fps, videoSteps, guidanceScale, motionScore, cfgScaleVideo, lightingVariant,
          referenceImage, referenceStrength, denoisingStrength, imageSteps, sampler, cfgScaleImage, clipSkip,
          imageGuidanceScale, imgDenoisingStrength } = s;

  const resolvedSeed = seed === -1 
    ? Math.floor(Math.random() * 2147483647) 
    : seed;

  // Определяем модель
  const modelId = generationType === "video"
    ? (videoModel === "anisora" ? "anisora" : "phr00t")
    : (imageModel === "pony" ? "pony" : "flux");

  // Формируем payload
  const payload = {
    model: modelId,
    type: generationType,
    mode: generationType === "video" ? videoMode : imageMode,
    
    // Common params
    prompt,
    negative_prompt: negativePrompt,
    width,
    height,
    seed: resolvedSeed,
    batch_size: batchSize,
    output_format: outputFormat,
    
    // Video-specific
    ...(generationType === "video" && {
      num_frames: numFrames,
      fps,
      steps: videoSteps,
      ...(videoModel === "anisora" ? {
        guidance_scale: guidanceScale,
        motion_score: motionScore,
      } : {
        cfg_scale: cfgScaleVideo,
        lighting_variant: lightingVariant,
      }),
      ...(referenceImage && {
        reference_image: referenceImage,
        reference_strength: referenceStrength,
        denoising_strength: denoisingStrength,
      }),
    }),
    
    // Image-specific
    ...(generationType === "image" && {
      steps: imageSteps,
      sampler,
      ...(imageModel === "pony" ? {
        cfg_scale: cfgScaleImage,
        clip_skip: clipSkip,
      } : {
        guidance_scale: imageGuidanceScale,
      }),
      ...(imageMode === "img2img" && referenceImage && {
        reference_image: referenceImage,
        denoising_strength: imgDenoisingStrength,
      }),
    }),
  };
  return payload;
}

const states = JSON.parse(process.argv[2]);
for (const s of states) {
  const progress = [];
  try {
    const result = await callGenerateAPI(buildPayload(s), p => progress.push(p));
    console.log(JSON.stringify({ ok: true, result, progress }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: e.message, progress }));
  }
}
