-- Shared by the wrk scripts of bench/lua: thread numbering, status accounting, and a one-line
-- JSON summary (prefixed `BENCHJSON `) that bench/bench.py reads.
--
-- wrk runs `setup` and `done` in its main Lua state and `init`, `request`, `response` in one
-- state per thread; every scenario script loads this file with dofile and installs these
-- functions as the wrk globals.
--
-- Arguments after `--` on wrk's command line, common to every script:
--   1: bearer token   2: number of wrk threads   3: run tag (unique per run)   4…: the script's
local M = {}

-- main state ------------------------------------------------------------------------------

local threads = {}

function M.setup(thread)
    thread:set("tid", #threads)
    table.insert(threads, thread)
end

local function json_string(s)
    s = tostring(s or "")
    s = s:gsub('[%c"\\]', function(ch)
        if ch == '"' then return '\\"' end
        if ch == "\\" then return "\\\\" end
        return string.format("\\u%04x", string.byte(ch))
    end)
    return '"' .. s .. '"'
end

function M.done(summary, latency, requests)
    local ok, conflicts, failed, other = 0, 0, 0, 0
    local first_error = ""
    for _, thread in ipairs(threads) do
        ok = ok + (thread:get("ok_count") or 0)
        conflicts = conflicts + (thread:get("conflict_count") or 0)
        failed = failed + (thread:get("error_count") or 0)
        other = other + (thread:get("other_count") or 0)
        local e = thread:get("first_error")
        if first_error == "" and e and e ~= "" then first_error = e end
    end
    local e = summary.errors
    local fields = {
        '"duration_us":' .. summary.duration,
        '"requests":' .. summary.requests,
        '"bytes":' .. summary.bytes,
        '"ok":' .. ok,
        '"conflicts_409":' .. conflicts,
        '"http_errors":' .. failed,
        '"socket_errors":' .. (e.connect + e.read + e.write + e.timeout),
        '"socket_errors_detail":{"connect":' .. e.connect .. ',"read":' .. e.read .. ',"write":' .. e.write
            .. ',"timeout":' .. e.timeout .. '}',
        '"status_errors_wrk":' .. e.status,
        '"latency_us":{"mean":' .. string.format("%.1f", latency.mean) .. ',"stdev":'
            .. string.format("%.1f", latency.stdev) .. ',"min":' .. latency.min .. ',"max":' .. latency.max
            .. ',"p50":' .. latency:percentile(50) .. ',"p90":' .. latency:percentile(90)
            .. ',"p99":' .. latency:percentile(99) .. ',"p999":' .. latency:percentile(99.9) .. '}',
        '"first_error":' .. json_string(first_error),
    }
    io.write("BENCHJSON {" .. table.concat(fields, ",") .. "}\n")
end

-- thread states ---------------------------------------------------------------------------

ok_count, conflict_count, error_count, other_count, first_error = 0, 0, 0, 0, ""

-- The common arguments; returns the script's own arguments (from position 4).
function M.init(args)
    M.token = args[1]
    M.threads = tonumber(args[2])
    M.tag = args[3]
    M.headers = { ["Authorization"] = "Bearer " .. M.token }
    M.json_headers = { ["Authorization"] = "Bearer " .. M.token, ["Content-Type"] = "application/json" }
    math.randomseed(os.time() + 7919 * (tid or 0))
    local own = {}
    for i = 4, #args do own[#own + 1] = args[i] end
    return own
end

-- Counts a response: 2xx ok, 409 (expected for stale versions) apart, anything else an error.
function M.response(status, headers, body)
    if status >= 200 and status < 300 then
        ok_count = ok_count + 1
    elseif status == 409 then
        conflict_count = conflict_count + 1
    else
        error_count = error_count + 1
        if first_error == "" then first_error = status .. " " .. string.sub(body or "", 1, 300) end
    end
end

-- Lines of a file, as a list.
function M.lines(path)
    local list = {}
    for line in io.lines(path) do
        if line ~= "" then list[#list + 1] = line end
    end
    assert(#list > 0, "no lines in " .. path)
    return list
end

-- The lines of a file whose lines all have the same length (ids), kept as one string:
-- `fixed.count` lines, `fixed.get(i)` the i-th. A table of a million strings (M.lines) makes
-- every cycle of LuaJIT's garbage collector mark a million objects, which stalled a wrk thread,
-- and every connection it drives, for tens to hundreds of milliseconds: at 1 M customers the
-- customer read's p99 was wrk's own pauses (docs/benchmarks.md).
function M.fixed_lines(path)
    local f = assert(io.open(path, "rb"))
    local s = f:read("*a")
    f:close()
    if s:sub(-1) ~= "\n" then s = s .. "\n" end
    local width = s:find("\n", 1, true)
    assert(width and width > 1, "no lines in " .. path)
    assert(#s % width == 0, "lines of unequal length in " .. path)
    return {
        count = math.floor(#s / width),
        get = function(i)
            local at = (i - 1) * width
            return s:sub(at + 1, at + width - 1)
        end,
    }
end

-- Splits a line on spaces.
function M.fields(line)
    local out = {}
    for f in string.gmatch(line, "%S+") do out[#out + 1] = f end
    return out
end

function M.urlencode(s)
    return (string.gsub(s, "[^%w%-%._~]", function(ch) return string.format("%%%02X", string.byte(ch)) end))
end

-- Installs the wrk globals; `script` holds the scenario's init(own_args) and request().
function M.install(script)
    setup = M.setup
    done = M.done
    init = function(args) script.init(M.init(args)) end
    request = script.request
    response = script.response or M.response
end

return M
