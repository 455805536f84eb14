-- Shared by the wrk scripts of the HTTP benchmark, loaded with dofile() from
-- each script's top level (so done() exists in wrk's setup environment too).
-- Requests name servers srv0 .. srv<N-1>.
-- Bodies have a fixed width so one pre-formatted request tail serves every
-- name; building a request costs one string concatenation. done() prints one JSON line
-- that run.py parses: wrk's own text output rounds and hides the error kinds.

names = 10000
tails = {}

-- The text of a request after "<METHOD> /server/<name>", built by wrk.format so
-- headers given with -H (e.g. "Connection: close") are included.
local function tail_of(method, body)
  local full = wrk.format(method, "/", nil, body)
  return full:sub(#method + 3)
end

function setup_requests(method, count)
  names = count
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  for k = 1, 64 do
    local body = nil
    if method == "POST" then
      -- 10.00 .. 99.99: five characters, and no leading zero (invalid JSON).
      body = string.format('{"cpu": %.2f, "ram": %.2f}', 10 + math.random() * 89.99, 10 + math.random() * 89.99)
    end
    tails[k] = tail_of(method, body)
  end
end

function request_for(method, index)
  return method .. " /server/srv" .. index .. tails[math.random(64)]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
