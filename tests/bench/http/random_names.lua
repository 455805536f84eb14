-- wrk script: METHOD /server/<a random one of srv0 .. srv<N-1>> on every
-- request (arguments: METHOD N; POST requests carry a sample body).
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local method = "GET"

function init(args)
  method = args[1]
  setup_requests(method, tonumber(args[2]))
end

function request()
  return request_for(method, math.random(0, names - 1))
end
