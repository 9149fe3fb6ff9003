-- GET a random path from the file named after "--" (one path per line).
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
local paths = {}
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  math.randomseed(os.time() + #paths)
end
function request() return wrk.format("GET", paths[math.random(#paths)]) end
done = report
