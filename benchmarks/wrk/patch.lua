-- PATCH (replace title) on a random user path from the file named after "--".
wrk.headers["Content-Type"] = "application/scim+json"  -- a headers table in wrk.format would drop -H
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
local paths = {}
local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"Benchmarked"}]}'
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
end
function request()
  return wrk.format("PATCH", paths[math.random(#paths)], nil, body)
end
done = report
