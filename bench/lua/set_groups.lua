-- POST /admin/customers/{id}/customer-groups {"add": [..], "remove": [..]} on random customers.
-- Each line of the data file is `customer gx gy in_gy`: the customer toggles between group gy
-- (seeded member) and gx (not a member), so every request adds one membership and removes one.
-- Customers are split between the wrk threads, and each thread keeps its customers' state.
-- Arguments: token, threads, tag, data file.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local c = dofile(dir .. "common.lua")
local mine = {}

c.install({
    init = function(own)
        local i = 0
        for _, line in ipairs(c.lines(own[1])) do
            if i % c.threads == tid then
                local f = c.fields(line)
                mine[#mine + 1] = { id = f[1], gx = f[2], gy = f[3], in_gy = f[4] == "1" }
            end
            i = i + 1
        end
    end,
    request = function()
        local m = mine[math.random(#mine)]
        local add, remove = m.gy, m.gx
        if m.in_gy then add, remove = m.gx, m.gy end
        m.in_gy = not m.in_gy
        local body = '{"add":["' .. add .. '"],"remove":["' .. remove .. '"]}'
        return wrk.format("POST", "/admin/customers/" .. m.id .. "/customer-groups", c.json_headers, body)
    end,
})
