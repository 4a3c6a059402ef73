-- The same request with "stream": true. The mock checks the compact
-- `"stream":true` spelling, so keep the body compact. wrk's latency for a
-- stream is the time to its last byte (`data: [DONE]`).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
wrk.body = '{"model":"bench-model","messages":[{"role":"user","content":"Say hello in five words."}],"max_tokens":16,"temperature":0,"stream":true}'
