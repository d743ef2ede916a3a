-- POST /api/v1/events, batches of BATCH (100) CloudEvents with ids unique per thread and request,
-- for 1,000 customers over November 2026; every answer must be 204. Prints VERIFIED.
local threads = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("id", #threads)
end

function init(args)
    bad = 0
    good = 0
    n = 0
    run = os.getenv("RUN") or "r"
    batch = tonumber(os.getenv("BATCH") or "100")
    headers = {["Authorization"] = "Bearer " .. os.getenv("TOKEN"),
               ["Content-Type"] = "application/cloudevents-batch+json"}
end

function request()
    n = n + 1
    local parts = {}
    for i = 1, batch do
        local k = n * batch + i + id * 7
        local cust = (k * 7919) % 1000
        local day = (math.floor(k / 1000) % 30) + 1
        local sec = (k * 37) % 86400
        parts[i] = string.format(
            '{"specversion":"1.0","id":"%s-%d-%d-%d","source":"bench","type":"tokens",' ..
            '"subject":"cust-%d","time":"2026-11-%02dT%02d:%02d:%02dZ","data":{"tokens":%d,"model":"m%d"}}',
            run, id, n, i, cust, day, math.floor(sec / 3600), math.floor(sec / 60) % 60, sec % 60,
            k % 100, k % 4)
    end
    return wrk.format("POST", "/api/v1/events", headers, "[" .. table.concat(parts, ",") .. "]")
end

function response(status, headers, body)
    if status ~= 204 then
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
