-- GET /{projectKey}/customer-groups/{id} of a random seeded group (the project family's read).
-- Arguments: token, threads, tag, project key, file of group ids (one per line).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local c = dofile(dir .. "common.lua")
local prefix, ids

c.install({
    init = function(own)
        prefix = "/" .. own[1] .. "/customer-groups/"
        ids = c.fixed_lines(own[2])
    end,
    request = function()
        return wrk.format("GET", prefix .. ids.get(math.random(ids.count)), c.headers)
    end,
})
