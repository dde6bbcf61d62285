-- wrk script: POST record_growth to a random trainee track of the demo cohort, as its coordinator.
-- A fire answers 303 (to the instance's page); wrk counts 3xx as success, a refusal (422) or a
-- conflict would show as "Non-2xx or 3xx responses".
local tracks = {}
for id in string.gmatch(os.getenv("UNIONFLOW_TRACKS") or "", "%d+") do
  tracks[#tracks + 1] = id
end
local cookie = os.getenv("UNIONFLOW_COOKIE")
local csrf = os.getenv("UNIONFLOW_CSRF")

request = function()
  local id = tracks[math.random(#tracks)]
  local phase = math.random(1, 2)
  local body = "_csrf=" .. csrf .. "&phase=" .. phase .. "&attendance=" .. math.random(60, 100)
    .. "&progress_note=bench"
  return wrk.format("POST", "/instances/" .. id .. "/fire/record_growth", {
    ["Cookie"] = cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end
