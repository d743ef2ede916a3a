-- Counts responses whose status is not the expected one (and bodies of the wrong length for
-- reads), so every response of the run is verified; printed at the end.
local expect_status = tonumber(os.getenv("EXPECT_STATUS") or "200")
local expect_len = tonumber(os.getenv("EXPECT_LEN") or "-1")
local threads = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("id", #threads)
end

function init(args)
    bad = 0
    good = 0
    n = 0
    token = os.getenv("TOKEN")
    method = os.getenv("METHOD") or "GET"
    target = os.getenv("TARGET") or "/"
    prefix = os.getenv("NAME_PREFIX") or "bench"
    -- EXTRA_HEADER="Name: value" is sent with every GET; TOKENS_FILE holds one query token per
    -- line, each used once (the marketplace's one-use download tokens), appended as ?token=.
    extra = os.getenv("EXTRA_HEADER")
    tokens = {}
    local tf = os.getenv("TOKENS_FILE")
    if tf ~= nil and tf ~= "" then
        for line in io.lines(tf) do
            table.insert(tokens, line)
        end
    end
    next_token = 1
end

function request()
    if method == "POST" then
        n = n + 1
        local body = '{"metadata":{"name":"' .. prefix .. '-' .. id .. '-' .. n .. '"}}'
        return wrk.format("POST", target, {["Authorization"] = "Bearer " .. token,
            ["Content-Type"] = "application/json"}, body)
    end
    local h = {}
    if token ~= nil and token ~= "" then h["Authorization"] = "Bearer " .. token end
    if extra ~= nil and extra ~= "" then
        local k, v = extra:match("^([^:]+):%s*(.*)$")
        h[k] = v
    end
    if #tokens > 0 then
        local t = tokens[next_token] or "spent"
        next_token = next_token + 1
        return wrk.format("GET", target .. "?token=" .. t, h)
    end
    return wrk.format("GET", target, h)
end

function response(status, headers, body)
    if status ~= expect_status or (expect_len >= 0 and #body ~= expect_len) then
        bad = bad + 1
    else
        good = good + 1
    end
end

function done(summary, latency, requests)
    local b, g = 0, 0
    for _, t in ipairs(threads) do
        b = b + t:get("bad")
        g = g + t:get("good")
    end
    io.write(string.format("VERIFIED good=%d bad=%d\n", g, b))
end
