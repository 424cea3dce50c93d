# Должно вернуть ошибку (нет reference_image для i2v)
curl -X POST "${API_URL}/generate" \
  -H "Content-Type: application/json" \
  -d '{
    "type": "video",
    "model": "anisora",
    "mode": "i2v",
    "prompt": "test",
    "width": 512,
    "height": 512,
    "seed": -1,
    "num_frames": 81
  }'
