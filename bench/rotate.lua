-- wrk script: GET one path, optionally as many signed-in participants in turn, and report JSON.
--
--   wrk -s bench/rotate.lua URL -- <path> [<cookies-file> [<hx> [<method>]]]
--
-- <path> may contain {course}, {shown} and {attempt}; each line of <cookies-file> is
-- "<Cookie header value>\t<course id>\t<timer key shown>[\t<attempt path>\t<form body>]", and each request
-- takes the next line (threads start at different lines). <hx> = 1 adds "HX-Request: true", as htmx does.
-- <method> = POST sends the line's form body (an evaluation's answer save). Every response that is not
-- 2xx is counted, so a run that measured redirects or 403s shows it.
-- done() prints one line "BENCH_JSON {...}" that bench/driver.py reads.

local USER_AGENT = "pizarra-bench/1"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads)
end

function init(args)
  path = args[1] or "/"
  hx = args[3] == "1"
  method = args[4] or "GET"
  entries = {}
  if args[2] and args[2] ~= "" then
    for line in io.lines(args[2]) do
      local f = {}
      for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(f, field) end
      if f[1] and f[1] ~= "" and f[2] and f[2]:match("^%d+$") then
        table.insert(entries, { cookie = f[1], course = f[2], shown = f[3] or "", attempt = f[4] or "",
                                body = f[5] or "" })
      end
    end
  end
  counter = (thread_index or 1) * 7919
  non2xx = 0
  statuses = ""
end

function request()
  -- a browser always offers compression (Chromium: gzip over plain HTTP); the app compresses pages > 500 bytes
  local headers = { ["User-Agent"] = USER_AGENT, ["Accept-Encoding"] = "gzip" }
  if hx then headers["HX-Request"] = "true" end
  if #entries == 0 then
    return wrk.format("GET", path, headers)
  end
  counter = counter + 1
  local entry = entries[(counter % #entries) + 1]
  headers["Cookie"] = entry.cookie
  local target = path:gsub("{course}", entry.course):gsub("{shown}", entry.shown):gsub("{attempt}", entry.attempt)
  if method == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return wrk.format("POST", target, headers, entry.body)
  end
  return wrk.format("GET", target, headers)
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
