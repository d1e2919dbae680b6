-- wrk script of the product-read steps (see README.md): every request reads a random one of the seeded skus
-- (arguments: path prefix, query, number of skus), and done() prints one RESULT line with the statuses, the whole
-- answers (200 with an empty "degraded" list; the FastAPI variant writes the same JSON), the answers carrying a
-- Retry-After header and wrk's latency percentiles.
local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function init(args)
  path_prefix = args[1] or "/api/products/"
  query = args[2] or "?currency=EUR"
  skus = tonumber(args[3] or "10000")
  statuses = {}
  whole = 0
  retry_after = 0
  math.randomseed(id * 7919 + os.time())
end
function request()
  return wrk.format("GET", string.format("%sSKU-%05d%s", path_prefix, math.random(1, skus), query))
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 and string.find(body, '"degraded":[]', 1, true) then whole = whole + 1 end
  if headers["Retry-After"] or headers["retry-after"] then retry_after = retry_after + 1 end
end
function done(summary, latency, requests)
  local total = {}
  local w, ra = 0, 0
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
    w = w + t:get("whole")
    ra = ra + t:get("retry_after")
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, k .. "=" .. v) end
  io.write(string.format("RESULT seconds=%.3f responses=%d whole=%d retry_after=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f errors_connect=%d errors_read=%d errors_timeout=%d statuses=%s\n",
    summary.duration / 1e6, summary.requests, w, ra, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect, summary.errors.read, summary.errors.timeout, table.concat(parts, ",")))
end
