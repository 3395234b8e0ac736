-- wrk script for the soak (bench/soak.py): simulated participants in turn, each request paced by delay().
--
--   wrk -s bench/soak.lua URL -- <cookies-file> <delay ms> <page every>
--
-- Each line of <cookies-file> is "<Cookie header value>\t<course id>\t<timer key shown>". Every request takes
-- the next participant; one in <page every> opens the course page, the others are the unchanged timer poll
-- (htmx: HX-Request, ?shown=..., 204), as participants polling every 30 s and opening a page every few minutes.
-- delay() paces each connection so that the connections together send the step's rate. done() prints JSON.

local USER_AGENT = "pizarra-bench/1"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads)
end

function init(args)
  pause = tonumber(args[2]) or 100
  page_every = tonumber(args[3]) or 7
  entries = {}
  for line in io.lines(args[1]) do
    local f = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(f, field) end
    if f[1] and f[1] ~= "" and f[2] and f[2]:match("^%d+$") then
      table.insert(entries, { cookie = f[1], course = f[2], shown = f[3] or "" })
    end
  end
  counter = (thread_index or 1) * 7919
  non2xx = 0
  statuses = ""
end

function delay()
  return pause
end

function request()
  counter = counter + 1
  local entry = entries[(counter % #entries) + 1]
  local headers = { ["User-Agent"] = USER_AGENT, ["Accept-Encoding"] = "gzip", ["Cookie"] = entry.cookie }
  if counter % page_every == 0 then
    return wrk.format("GET", "/cursos/" .. entry.course, headers)
  end
  headers["HX-Request"] = "true"
  return wrk.format("GET", "/cursos/" .. entry.course .. "/timer?shown=" .. entry.shown, headers)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if #statuses < 40 then statuses = statuses .. status .. " " end
  end
end

function done(summary, latency, requests)
  local bad, seen = 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
    seen = seen .. thread:get("statuses")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f, "non2xx": %d, "non2xx_sample": "%s", "socket_errors": ' ..
    '{"connect": %d, "read": %d, "write": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, bad, seen, e.connect, e.read, e.write, e.timeout))
end
