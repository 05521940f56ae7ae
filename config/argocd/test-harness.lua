-- Test harness for networkcheck-health.lua, used by test/unit/argocd-health.test.ts.
-- Usage: lua5.1 test-harness.lua <health.lua> <object.lua>
-- <object.lua> is a chunk that returns the object as a table. Sets the global `obj` as Argo CD does,
-- runs the health script, and prints the status on the first line and the message after it.
local health = assert(loadfile(arg[1]))
local object = assert(loadfile(arg[2]))
obj = object()
local hs = health()
if type(hs) ~= "table" then error("health script returned " .. type(hs) .. ", not a table") end
io.write(tostring(hs.status), "\n", tostring(hs.message))
