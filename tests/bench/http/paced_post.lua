-- wrk script: like random_names.lua, but each connection waits 0.5 to 1.5 s (1 s on
-- average) after every response before its next request: agents that post
-- about once a second over a kept-alive connection. Arguments: POST N.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "random_names.lua")

function delay()
  return math.random(500, 1500)
end
