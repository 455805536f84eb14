-- wrk script: POST the requests in the file named by BODY_FILE one after the
-- other, round and round; each is "PATH LENGTH\n" then LENGTH bytes of body
-- (bodies may hold any byte). With CONTENT_ENCODING set, that header too (the
-- bodies are already encoded).
local handle = assert(io.open(os.getenv("BODY_FILE"), "rb"))
local all = handle:read("*a")
handle:close()
local bodies = {}
local at = 1
while at <= #all do
  local newline = assert(string.find(all, "\n", at, true))
  local path, length = string.match(string.sub(all, at, newline - 1), "^(%S+) (%d+)$")
  length = tonumber(length)
  bodies[#bodies + 1] = {path, string.sub(all, newline + 1, newline + length)}
  at = newline + length + 1
end
local encoding = os.getenv("CONTENT_ENCODING")
local next_body = 0

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "text/plain"
  if encoding and encoding ~= "" then wrk.headers["Content-Encoding"] = encoding end
end

function request()
  next_body = next_body % #bodies + 1
  return wrk.format(nil, bodies[next_body][1], nil, bodies[next_body][2])
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d seconds=%.3f non_2xx=%d\n",
                         summary.requests, summary.duration / 1e6, summary.errors.status))
end
