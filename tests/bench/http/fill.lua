-- wrk script: POST one sample to each of srv0 .. srv<N-1> in order (wrapping
-- around), then print "FILLED" once N + C responses were 204 (C = connections,
-- so every name was sent and answered). run.py stops wrk when it sees FILLED.
-- Arguments: N, C.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local next_index = 0
local recorded = 0
local wanted = 0

function init(args)
  setup_requests("POST", tonumber(args[1]))
  wanted = names + tonumber(args[2])
end

function request()
  local index = next_index % names
  next_index = next_index + 1
  return request_for("POST", index)
end

function response(status, headers, body)
  if status == 204 then recorded = recorded + 1 end
  if recorded == wanted then
    io.write("FILLED\n")
    io.flush()
  end
end
