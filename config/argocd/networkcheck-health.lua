-- Argo CD health check for netcheck.dev/NetworkCheck.
-- Install: argocd-cm key `resource.customizations.health.netcheck.dev_NetworkCheck` (see argocd-cm-patch.yaml).
-- Runs in Argo CD's gopher-lua (Lua 5.1) with the live object in the global `obj`.
--
--   status missing, or status.observedGeneration < metadata.generation  -> Progressing
--   condition Stalled=True (for the current generation)                 -> Degraded, its message
--   status.result Healthy                                               -> Healthy
--   status.result Unhealthy or Error                                    -> Degraded, status.summary
--   status.result Pending or Running, or no result yet                  -> Progressing
local hs = {}

local function withCause(status, fallback)
  local cause = {}
  if status.failedLayer ~= nil and status.failedLayer ~= "" then table.insert(cause, status.failedLayer) end
  if status.reason ~= nil and status.reason ~= "" then table.insert(cause, status.reason) end
  local message = fallback
  if status.summary ~= nil and status.summary ~= "" then message = status.summary end
  if #cause > 0 then message = table.concat(cause, "/") .. ": " .. message end
  return message
end

local status = obj.status
if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to pick up the check"
  return hs
end

local generation = 0
if obj.metadata ~= nil and obj.metadata.generation ~= nil then generation = obj.metadata.generation end
if status.observedGeneration == nil or status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

if status.conditions ~= nil then
  for _, condition in ipairs(status.conditions) do
    if condition.type == "Stalled" and condition.status == "True"
        and (condition.observedGeneration == nil or condition.observedGeneration >= generation) then
      hs.status = "Degraded"
      hs.message = condition.message or condition.reason or "Stalled"
      return hs
    end
  end
end

local result = status.result
if result == "Healthy" then
  hs.status = "Healthy"
  hs.message = status.summary or "Healthy"
elseif result == "Unhealthy" or result == "Error" then
  hs.status = "Degraded"
  hs.message = withCause(status, result)
elseif result == "Running" then
  hs.status = "Progressing"
  hs.message = "Check is running"
else
  hs.status = "Progressing"
  hs.message = "Waiting for the first result"
end
return hs
