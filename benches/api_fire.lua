-- wrk script: the same fires as benches/fire.lua through the JSON API: POST record_growth to a
-- random trainee track of the demo cohort with a service account's bearer token (no cookie, no
-- CSRF). No expected_version, as the page's form: the event fires on the track as it is now. A
-- fire answers 200 with the instance; a refusal (422), a conflict (409) or the token's rate (429)
-- shows as "Non-2xx or 3xx responses".
local tracks = {}
for id in string.gmatch(os.getenv("UNIONFLOW_TRACKS") or "", "%d+") do
  tracks[#tracks + 1] = id
end
local token = os.getenv("UNIONFLOW_TOKEN")

request = function()
  local id = tracks[math.random(#tracks)]
  local body = string.format('{"data":{"phase":%d,"attendance":%d,"progress_note":"bench"}}',
    math.random(1, 2), math.random(60, 100))
  return wrk.format("POST", "/api/v1/instances/" .. id .. "/events/record_growth", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
end
