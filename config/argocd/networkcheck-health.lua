-- Argo CD health check for netcheck.dev/NetworkCheck.
-- Install: argocd-cm key `resource.customizations.health.netcheck.dev_NetworkCheck` (see argocd-cm-patch.yaml).
-- Runs in Argo CD's gopher-lua (Lua 5.1) with the live object in the global `obj`.
-- It reads the same conditions Flux's kstatus reads (README, "GitOps"), so both tools agree:
--
--   status missing, or status.observedGeneration < metadata.generation  -> Progressing
--   Reconciling=True: the current spec has no verdict yet                -> Progressing, its message
--   Stalled=True: a failed verdict (CheckUnhealthy, CheckError)         -> Degraded, layer/reason: summary
--   Stalled=True: could not probe (SourceNotFound, InvalidSchedule, ...) -> Degraded, its message
--   status.result Healthy                                               -> Healthy
--   status.result Unhealthy or Error                                    -> Degraded, layer/reason: summary
--   status.result Pending or Running, or no result yet                  -> Progressing
-- A scheduled re-run of an unchanged spec keeps Reconciling=False and the last verdict, so the
-- health does not flap to Progressing on every run.
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

-- The condition of this type that is True for the current generation, or nil.
local function trueCondition(status, conditionType, generation)
  if status.conditions == nil then return nil end
  for _, condition in ipairs(status.conditions) do
    if condition.type == conditionType and condition.status == "True"
        and (condition.observedGeneration == nil or condition.observedGeneration >= generation) then
      return condition
    end
  end
  return nil
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

local reconciling = trueCondition(status, "Reconciling", generation)
if reconciling ~= nil then
  hs.status = "Progressing"
  hs.message = reconciling.message or reconciling.reason or "Reconciling"
  return hs
end

local stalled = trueCondition(status, "Stalled", generation)
if stalled ~= nil then
  hs.status = "Degraded"
  if stalled.reason == "CheckUnhealthy" or stalled.reason == "CheckError" then
    hs.message = withCause(status, stalled.message or status.result or "Unhealthy")
  else
    hs.message = stalled.message or stalled.reason or "Stalled"
  end
  return hs
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
