-- GET /admin/customers?q=<term>&limit=50 with a random search term (a seeded surname).
-- Arguments: token, threads, tag, file of terms.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local c = dofile(dir .. "common.lua")
local paths = {}

c.install({
    init = function(own)
        for _, term in ipairs(c.lines(own[1])) do
            paths[#paths + 1] = "/admin/customers?q=" .. c.urlencode(term) .. "&limit=50"
        end
    end,
    request = function()
        return wrk.format("GET", paths[math.random(#paths)], c.headers)
    end,
})
