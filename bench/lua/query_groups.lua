-- GET /{projectKey}/customer-groups?where=createdAt > "<ts>"&limit=20, ts a random group's
-- creation time (so a page of 20 of up to all the groups, and the total).
-- Arguments: token, threads, tag, project key, file of RFC 3339 timestamps.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local c = dofile(dir .. "common.lua")
local paths = {}

c.install({
    init = function(own)
        for _, ts in ipairs(c.lines(own[2])) do
            paths[#paths + 1] = "/" .. own[1] .. "/customer-groups?where="
                .. c.urlencode('createdAt > "' .. ts .. '"') .. "&limit=20"
        end
    end,
    request = function()
        return wrk.format("GET", paths[math.random(#paths)], c.headers)
    end,
})
