-- Replays requests picked at random from a file (one "METHOD<TAB>PATH<TAB>BODY" a line,
-- optionally followed by "<TAB>Name: value", a header) and prints the run's numbers as
-- one JSON line. Usage: wrk ... -s requests.lua -- FILE
local requests = {}

function init(args)
  math.randomseed(os.time())
  for line in io.lines(args[1]) do
    local method, path, body, header = line:match("^(%u+)\t([^\t]+)\t?([^\t]*)\t?(.*)$")
    local headers = {}
    if header ~= "" then
      local name, value = header:match("^([^:]+):%s*(.*)$")
      headers[name] = value
    end
    if body == "" then
      body = nil
    else
      headers["Content-Type"] = "application/json"
    end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
end

function request()
  return requests[math.random(#requests)]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
