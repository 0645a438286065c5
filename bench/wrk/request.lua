-- One wrk script for every scenario, configured through the environment:
--   BENCH_METHOD         GET (default) or POST
--   BENCH_BODY_FILE      request body (sent as application/json)
--   BENCH_TOKEN          bearer token for the Authorization header
--   BENCH_IF_NONE_MATCH  an ETag to send as If-None-Match
--   BENCH_NO_CACHE       if set, sends Cache-Control: no-cache (a GraphQL
--                        answer is then executed, never reused)
--   BENCH_EXPECT_STATUS  if set, every response's status is checked in the
--                        `response` hook and counted as matching or not.
--                        Leave it unset for large bodies: with the hook, wrk
--                        copies each body into Lua, which would slow the
--                        client and distort the measurement. wrk itself
--                        still counts non-2xx/3xx answers ("status" errors).
-- `done` prints one line, "BENCH_RESULT {json}", that bench/driver.py reads.

wrk.method = os.getenv("BENCH_METHOD") or "GET"

local body_file = os.getenv("BENCH_BODY_FILE")
if body_file and body_file ~= "" then
   local f = assert(io.open(body_file, "rb"))
   wrk.body = f:read("*a")
   f:close()
   wrk.headers["Content-Type"] = "application/json"
end

local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
   wrk.headers["Authorization"] = "Bearer " .. token
end

local etag = os.getenv("BENCH_IF_NONE_MATCH")
if etag and etag ~= "" then
   wrk.headers["If-None-Match"] = etag
end

local no_cache = os.getenv("BENCH_NO_CACHE")
if no_cache and no_cache ~= "" then
   wrk.headers["Cache-Control"] = "no-cache"
end

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

-- Per-thread counters (each wrk thread runs this file in its own Lua state).
matched = 0
unexpected = 0
last_unexpected = 0

local expect = tonumber(os.getenv("BENCH_EXPECT_STATUS") or "")
if expect then
   function response(status, headers, body)
      if status == expect then
         matched = matched + 1
      else
         unexpected = unexpected + 1
         last_unexpected = status
      end
   end
end

function done(summary, latency, requests)
   local m, u, last = 0, 0, 0
   for _, thread in ipairs(threads) do
      m = m + thread:get("matched")
      u = u + thread:get("unexpected")
      local l = thread:get("last_unexpected")
      if l ~= 0 then last = l end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d,' ..
      '"checked":%s,"matched":%d,"unexpected":%d,"last_unexpected":%d,' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      expect and "true" or "false", m, u, last,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean))
end
