"""Talks to a running Switchyard proxy with the official openai client.

Usage: openai_compat.py BASE_URL API_KEY
Exits non-zero (with the failing check) if the proxy does not behave as the
client expects from an OpenAI-compatible server.
"""

import sys

import openai

base_url, api_key = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=20)

# Plain chat completion.
chat = client.chat.completions.create(
    model="gpt-4o", messages=[{"role": "user", "content": "Say hello"}]
)
assert chat.object == "chat.completion", chat
assert chat.choices[0].message.role == "assistant", chat
assert chat.choices[0].message.content, chat
assert chat.usage is not None and chat.usage.total_tokens > 0, chat

# Raw response exposes LiteLLM's routing headers.
raw = client.chat.completions.with_raw_response.create(
    model="gpt-4o", messages=[{"role": "user", "content": "Say hello"}]
)
assert raw.headers.get("x-litellm-model-group") == "gpt-4o", dict(raw.headers)
assert raw.headers.get("x-litellm-model-id"), dict(raw.headers)

# Streaming chat completion: chunks arrive and the stream ends cleanly.
stream = client.chat.completions.create(
    model="gpt-4o", messages=[{"role": "user", "content": "Stream please"}], stream=True
)
pieces = []
finish = None
for chunk in stream:
    assert chunk.object == "chat.completion.chunk", chunk
    if chunk.choices:
        pieces.append(chunk.choices[0].delta.content or "")
        finish = chunk.choices[0].finish_reason or finish
assert "".join(pieces), pieces
assert finish == "stop", finish

# Embeddings.
emb = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
assert len(emb.data) == 2, emb
assert len(emb.data[0].embedding) > 0, emb

# Errors surface as the right exception classes.
try:
    client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    raise AssertionError("unknown model did not fail")
except openai.BadRequestError as e:
    assert e.status_code == 400, e
    assert "no-such-model" in str(e), e

try:
    openai.OpenAI(base_url=base_url, api_key="sk-wrong", max_retries=0).models.list()
    raise AssertionError("wrong key did not fail")
except openai.AuthenticationError as e:
    assert e.status_code == 401, e

try:
    client.chat.completions.create(model="flaky", messages=[{"role": "user", "content": "x"}])
    raise AssertionError("upstream 429 did not fail")
except openai.RateLimitError as e:
    assert e.status_code == 429, e

models = [m.id for m in client.models.list()]
assert "gpt-4o" in models and "text-embedding-3-small" in models, models

print("openai client compatibility: ok")
