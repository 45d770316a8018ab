-- wrk script: kiosks issuing walk-in tickets, services round-robin.
local services = {"tax-general", "tax-invoice", "social-insurance", "pension", "medical-insurance",
  "property-transfer", "property-certificate", "entry-exit", "vehicle", "household", "company-setup",
  "company-change", "housing-fund-withdrawal", "housing-fund-loan", "construction-permit"}
local n = 0
request = function()
  n = n + 1
  local body = '{"service":"' .. services[(n % #services) + 1] .. '","channel":"kiosk","priority":"normal"}'
  return wrk.format("POST", "/api/v1/tickets", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer demo-kiosk-token"}, body)
end
local non201 = 0
response = function(status, headers, body)
  if status ~= 201 then non201 = non201 + 1 end
end
