-- POST /Users with unique pseudonymous userNames (thread id + start time + counter).
wrk.headers["Content-Type"] = "application/scim+json"  -- a headers table in wrk.format would drop -H
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args) counter = 0; prefix = tostring(tid) .. "-" .. tostring(os.time()) end
function request()
  counter = counter + 1
  local name = "wrk-" .. prefix .. "-" .. counter .. "@example.com"
  local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"' .. name ..
    '","name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"value":"' .. name ..
    '","type":"work","primary":true}],"active":true,"title":"Engineer"}'
  return wrk.format("POST", nil, nil, body)
end
done = report
