-- GET /admin/customers/{id} of a random seeded customer (default fields: groups, addresses).
-- Arguments: token, threads, tag, file of customer ids (one per line).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local c = dofile(dir .. "common.lua")
local ids

c.install({
    init = function(own) ids = c.fixed_lines(own[1]) end,
    request = function()
        return wrk.format("GET", "/admin/customers/" .. ids.get(math.random(ids.count)), c.headers)
    end,
})
