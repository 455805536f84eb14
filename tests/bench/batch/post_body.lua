-- wrk script: POST the body in the file named by BODY_FILE to the URL path given
-- after `--` (e.g. /servers); every request is the same.
local body_file = os.getenv("BODY_FILE")
local handle = assert(io.open(body_file, "rb"))
local body = handle:read("*a")
handle:close()

function init(args)
  wrk.method = "POST"
  wrk.path = args[1]
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

local errors = 0
function response(status, headers, response_body)
  if status ~= 200 and status ~= 204 then errors = errors + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d seconds=%.3f non_2xx=%d\n",
                         summary.requests, summary.duration / 1e6, summary.errors.status))
end
