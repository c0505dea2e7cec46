-- POST /{projectKey}/customer-groups/{id} {"version": v, "actions": [{"action": "changeName", …}]}
-- with the group's current version. The groups are split between the wrk threads; a thread
-- walks its groups round robin (a group comes back only after hundreds of requests, so a
-- request never races the previous one on the same group) and learns each new version from
-- the answer (from `currentVersion` after a 409). Names are unique per request.
-- Arguments: token, threads, tag, project key, data file (`id version` per line).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local c = dofile(dir .. "common.lua")
local key
local groups, version = {}, {}
local next_index, n = 1, 0

c.install({
    init = function(own)
        key = own[1]
        local i = 0
        for _, line in ipairs(c.lines(own[2])) do
            if i % c.threads == tid then
                local f = c.fields(line)
                groups[#groups + 1] = f[1]
                version[f[1]] = tonumber(f[2])
            end
            i = i + 1
        end
        next_index = math.random(#groups)
    end,
    request = function()
        local id = groups[next_index]
        next_index = next_index % #groups + 1
        n = n + 1
        local body = string.format(
            '{"version":%d,"actions":[{"action":"changeName","name":"Group %s %s-%d-%d"}]}',
            version[id], string.sub(id, -6), c.tag, tid, n)
        return wrk.format("POST", "/" .. key .. "/customer-groups/" .. id, c.json_headers, body)
    end,
    response = function(status, headers, body)
        c.response(status, headers, body)
        if status == 200 then
            local id, v = string.match(body, '"id":"([^"]+)","version":(%d+)')
            if id then version[id] = tonumber(v) end
        elseif status == 409 then
            local id = string.match(body, "Object ([%x%-]+) has")
            local v = string.match(body, '"currentVersion":(%d+)')
            if id and v then version[id] = tonumber(v) end
        end
    end,
})
