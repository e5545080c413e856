-- wrk (the Debian package, 4.1) has no fixed request rate. With this script each connection
-- waits WRK_DELAY_MS (whole milliseconds; default 2) after each answer before its next request,
-- so CONNECTIONS connections make about CONNECTIONS / (delay + service time) requests a second,
-- each for a change drawn at random from C1..C<WRK_KEYS>. wrk times each request from its
-- send (closed loop): the paced run of ingest_load, timed from each request's due time, is the
-- stricter of the two.
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "2")
local keys = tonumber(os.getenv("WRK_KEYS") or "1")
local token = os.getenv("WRK_TOKEN") or ""

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed)
end

function request()
  return wrk.format("GET", "/v1/entities/change/C" .. math.random(1, keys), { ["Authorization"] = "Bearer " .. token })
end

function delay()
  return delay_ms
end
