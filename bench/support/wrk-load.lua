-- wrk script for bench/support/load.ts: POST <base>/k<n><suffix> with n uniform in [0, keys), the body
-- from BENCH_BODY_FILE or a sequence number, and a JSON summary on stdout when done.
local base = os.getenv("BENCH_BASE_PATH") or "/"
local keys = tonumber(os.getenv("BENCH_KEYS") or "1")
local suffix = os.getenv("BENCH_PATH_SUFFIX") or ""
local contentType = os.getenv("BENCH_CONTENT_TYPE") or "text/plain"
local fixedBody = nil
local bodyFile = os.getenv("BENCH_BODY_FILE")
if bodyFile and bodyFile ~= "" then
  local f = assert(io.open(bodyFile, "rb"))
  fixedBody = f:read("*a")
  f:close()
end
local seq = 0
local headers = { ["Content-Type"] = contentType }

math.randomseed(os.time())

request = function()
  local key = keys == 1 and "k0" or ("k" .. math.random(0, keys - 1))
  seq = seq + 1
  return wrk.format("POST", base .. key .. suffix, headers, fixedBody or tostring(seq))
end

done = function(summary, latency, requests)
  local errors = summary.errors
  local failed = errors.status + errors.connect + errors.read + errors.write + errors.timeout
  io.write(string.format(
    '{"requests":%d,"failed":%d,"status":%d,"elapsedUs":%d,"p50Us":%d,"p99Us":%d}\n',
    summary.requests, failed, errors.status, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
