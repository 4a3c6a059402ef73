#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target into fuzz/corpus/<target>/.

Realistic inputs: requests as curl and the OpenAI SDKs send them, chunked
bodies, OpenAI/Azure SSE streams, OpenAI response heads, the bundled
configs. See src/lib.rs for each target's input layout (the split and cap
bytes before the payload).
"""
import hashlib
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent
repo = root.parent
corpus = root / "corpus"


def put(target, data):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / ("seed-" + hashlib.sha1(data).hexdigest()[:16])).write_bytes(data)


chat = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say this is a test"}]}).encode()
chat_stream = json.dumps({"model": "gpt-4o", "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "h\u00e9llo \"world\""}], "stream": True, "stream_options": {"include_usage": True}, "temperature": 0.2, "max_tokens": 64, "metadata": {"tags": ["a"]}}).encode()
embed = json.dumps({"model": "text-embedding-3-small", "input": ["a", "b"], "encoding_format": "float"}).encode()


def chunked(body, sizes=(7, 64), ext=b"", trailers=b""):
    out, i, n = b"", 0, 0
    while i < len(body):
        size = sizes[n % len(sizes)]
        piece = body[i:i + size]
        out += b"%x%s\r\n%s\r\n" % (len(piece), ext, piece)
        i += size
        n += 1
    return out + b"0\r\n" + trailers + b"\r\n"


curl = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost:4000\r\nUser-Agent: curl/8.5.0\r\n"
        b"Accept: */*\r\nContent-Type: application/json\r\nAuthorization: Bearer sk-1234\r\n"
        b"Content-Length: %d\r\n\r\n" % len(chat)) + chat
openai_py = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:4000\r\nAccept-Encoding: gzip, deflate\r\n"
             b"Connection: keep-alive\r\nAccept: application/json\r\nContent-Type: application/json\r\n"
             b"User-Agent: OpenAI/Python 1.54.3\r\nX-Stainless-Lang: python\r\nX-Stainless-Package-Version: 1.54.3\r\n"
             b"X-Stainless-OS: Linux\r\nX-Stainless-Arch: x64\r\nX-Stainless-Runtime: CPython\r\n"
             b"X-Stainless-Runtime-Version: 3.12.3\r\nAuthorization: Bearer sk-1234\r\nX-Stainless-Async: false\r\n"
             b"x-stainless-retry-count: 0\r\nx-stainless-read-timeout: 600\r\nContent-Length: %d\r\n\r\n" % len(chat_stream)) + chat_stream
openai_node = (b"POST /v1/embeddings HTTP/1.1\r\naccept: application/json\r\ncontent-type: application/json\r\n"
               b"user-agent: OpenAI/JS 4.77.0\r\nx-stainless-lang: js\r\nx-stainless-runtime: node\r\n"
               b"authorization: Bearer sk-1234\r\ncontent-length: %d\r\nAccept-Encoding: gzip,deflate\r\n"
               b"Host: localhost:4000\r\nConnection: keep-alive\r\n\r\n" % len(embed)) + embed
curl_chunked = (b"POST /chat/completions HTTP/1.1\r\nHost: localhost:4000\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n"
                b"Authorization: Bearer sk-1234\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                b"Expect: 100-continue\r\n\r\n") + chunked(chat)
heads = [
    curl, openai_py, openai_node, curl_chunked,
    b"GET /v1/models HTTP/1.1\r\nHost: localhost:4000\r\nAuthorization: Bearer sk-1234\r\n\r\n",
    b"HEAD /health/liveliness HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /health/readiness HTTP/1.0\r\n\r\n",
    b"GET /v1/models/gpt-4o?x=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: a\r\nOrigin: http://example.com\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization,content-type\r\n\r\n",
    b"POST http://proxy.example:4000/v1/completions?a=b HTTP/1.1\r\nHost: proxy.example:4000\r\nContent-Length: 2\r\n\r\n{}",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nx-switchyard-timeout: 3\r\n\r\n",
    b"GET / HTTP/1.1\nHost: a\n\n",
]
for h in heads:
    put("request_head", h)

bodies = [chunked(chat), chunked(chat_stream, (1, 3, 200)), chunked(embed, (16,), b";name=value"),
          chunked(b"hello", (5,), b" ; a = \"b;c\"", b"x-trailer: y\r\nx-other: z\r\n"),
          b"0\r\n\r\n", b"3F\r\n" + b"x" * 0x3F + b"\r\n0\r\n\r\n",
          b"003\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", b"+3\r\nabc\r\n0\r\n\r\n",
          b"3\nabc\n0\n\n", b"3\r\r\nabc\r\n0\r\n\r\n", b"ffffffffffffffffff\r\n"]
for b in bodies:
    put("chunked", b"\x00" + b)
    put("chunked", b"\x03\x10\x80\xf0" + b)
    put("request_body", b"\x00\x40\x00" + b)
    put("request_body", b"\xff\xff\x02\x33\x99" + b)
# A chunk line of 4097 bytes (one over the cap), cut right before its CR.
long_line = b"0" * 4096 + b"1\r\na\r\n0\r\n\r\nGET / H"
assert (254 * len(long_line)) // 255 == 4097
put("chunked", b"\x01\xfe" + long_line)
for j in [chat, chat_stream, embed, b'{"model":"m","a":1,"a":2,"\\u0041\\n":"\\ud83d\\ude00"}', b'[1,2]', b'{"x":']:
    put("request_body", b"\xff\xff\x00" + j)

sse_chat = b"".join(b"data: " + json.dumps(c, separators=(",", ":")).encode() + b"\n\n" for c in [
    {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1733000000, "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_0ba0d124f1", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "refusal": None}, "logprobs": None, "finish_reason": None}], "usage": None},
    {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1733000000, "model": "gpt-4o-mini-2024-07-18", "choices": [{"index": 0, "delta": {"content": "This is"}, "logprobs": None, "finish_reason": None}]},
    {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1733000000, "model": "gpt-4o-mini-2024-07-18", "choices": [{"index": 0, "delta": {"content": " a test. [DONE]"}, "logprobs": None, "finish_reason": None}]},
    {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1733000000, "model": "gpt-4o-mini-2024-07-18", "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]},
    {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1733000000, "model": "gpt-4o-mini-2024-07-18", "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}},
]) + b"data: [DONE]\n\n"
azure = (b'data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}\r\n\r\n'
         b'data: {"choices":[{"delta":{"content":"Hi"},"finish_reason":null,"index":0}],"id":"chatcmpl-2","model":"gpt-4"}\r\n\r\ndata: [DONE]\r\n\r\n')
others = [sse_chat, azure, sse_chat.replace(b"\n", b"\r"),
          b": keep-alive\n\nevent: error\ndata: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n",
          b"id: 1\nretry: 100\ndata: line one\ndata: line two\n\ndata:[DONE]", b"data: {\"a\":\n\n\n\r\n\rdata: [DONE]\r\n\r\nafter"]
for s in others:
    put("sse_decoder", b"\x00\x00" + s)
    put("sse_decoder", b"\x00\x04\x05\x50\x90\xfe" + s)
    put("sse_decoder", b"\xc0\x02\x30\xa0" + s)

body = json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "This is a test."}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}}).encode()
openai_head = (b"HTTP/1.1 200 OK\r\nDate: Mon, 07 Dec 2026 20:00:00 GMT\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\nConnection: keep-alive\r\naccess-control-expose-headers: X-Request-ID\r\n"
               b"openai-organization: user-abc\r\nopenai-processing-ms: 412\r\nopenai-version: 2020-10-01\r\n"
               b"x-ratelimit-limit-requests: 10000\r\nx-ratelimit-remaining-requests: 9999\r\nx-ratelimit-reset-requests: 6ms\r\n"
               b"x-request-id: req_abc\r\nstrict-transport-security: max-age=31536000; includeSubDomains; preload\r\n"
               b"CF-RAY: 8ed1-SJC\r\nalt-svc: h3=\":443\"; ma=86400\r\n\r\n")
responses = [openai_head + chunked(body),
             openai_head.replace(b"application/json", b"text/event-stream; charset=utf-8") + chunked(sse_chat, (300,)),
             b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nretry-after: 20\r\nretry-after-ms: 20000\r\nContent-Length: 2\r\n\r\n{}",
             b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
             b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
             b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 5\r\n\r\n0\r\n\r\n",
             b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
             b"HTTP/1.1 502 Bad Gateway\r\nServer: nginx\r\n\r\n<html></html>"]
for r in responses:
    put("response_head", r)

for y in sorted((repo / "config").glob("*.yaml")):
    put("config_loader", y.read_bytes())
put("config_loader", b"""model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
      rpm: 100
      timeout: 1e20
router_settings:
  routing_strategy: usage-based-routing-v2
  num_retries: 3
  cooldown_time: -1
  fallbacks: [{"gpt-4o": ["gpt-4o-mini"]}]
environment_variables:
  AB: x
general_settings:
  master_key: sk-1234
""")

# A stream's first events: role-only, empty, Azure's filter results, usage, and output.
for chunk in [
    '{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}',
    '{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}',
    '{"choices":[],"prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}',
    '{"id":"c","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}',
    '{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]}}]}',
    '{"choices":[{"index":0,"delta":{"reasoning_content":"Let me think"}}]}',
    '{"choices":[{"index":0,"text":"Once","finish_reason":null}]}',
    '{"choices" : [ { "delta" : { "role" : "assistant", "name" : "say \\"content\\": \\"x\\"" } } ] }',
    '{"error":{"message":"overloaded","type":"server_error"}}',
]:
    put("stream_commit", chunk.encode())

# Base URLs as configs write them.
for url in [
    "http://nomic-embed-v1.5:8080/v1",
    "https://my-endpoint.openai.azure.com/",
    "http://127.0.0.1:4000",
    "http://[::1]:8000/v1/",
    "https://user:pass@Proxy.Example.COM:443/a/../b/./c?x=1",
    "http://b\u00fccher.example/v1",
    "${OPENAI_API_BASE}",
    "http://localhost:99999",
]:
    put("base_url", url.encode())
print("seeds written to", corpus, file=sys.stderr)
