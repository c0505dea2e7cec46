-- POST /admin/customers with a unique email per request.
-- Arguments: token, threads, tag.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local c = dofile(dir .. "common.lua")
local n = 0

c.install({
    init = function() end,
    request = function()
        n = n + 1
        local body = string.format(
            '{"email":"bench-%s-%d-%d@load.example","company_name":"Loadtest Ltd","first_name":"Load",'
                .. '"last_name":"Tester","phone":"+1 555 0100","metadata":{"source":"bench"}}',
            c.tag, tid, n)
        return wrk.format("POST", "/admin/customers", c.json_headers, body)
    end,
})
