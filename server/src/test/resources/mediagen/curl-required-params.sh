# Должно вернуть ошибку 400
curl -X POST "${API_URL}/generate" \
  -H "Content-Type: application/json" \
  -d '{}'

# Должно работать
curl -X POST "${API_URL}/generate" \
  -H "Content-Type: application/json" \
  -d '{
    "type": "video",
    "model": "anisora",
    "mode": "t2v",
    "prompt": "test",
    "width": 512,
    "height": 512,
    "seed": -1,
    "num_frames": 81
  }'
