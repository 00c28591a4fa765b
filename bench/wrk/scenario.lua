-- Generic wrk driver for bench/run.py: one scenario, described by key=value script arguments.
--
--   wrk ... -s bench/wrk/scenario.lua http://127.0.0.1:PORT -- \
--       method=POST path=/callLog body=/tmp/x/callLog.create.json mode=unique prefix=ab12-
--
-- The request body (and path) are templates from bench/scenarios.py in which "@UID@" stands for
-- a per-request id. The template is split on the marker once; each request joins the pieces with
-- its id (table.concat), so building a request costs one concat and one wrk.format.
--
-- Modes:
--   static  one pre-built request (no marker)
--   unique  id = prefix .. thread id .. "-" .. random salt .. "-" .. per-thread counter
--   cycle   id = prefix .. string.format("%04d", i) for i = 0 .. count-1, pre-built, in turn
--           (each thread starts at a different offset)
--
-- The Authorization header comes from wrk's -H option (wrk.headers). done() prints one line
-- "BENCH_JSON {...}" with the counts and latency percentiles, which run.py parses.

local MARKER = "@UID@"

threads = {}          -- main state: every thread, for done()
failures = 0          -- per thread: 2xx answers whose JSON says "successful":false
tid = 0               -- per thread: set by setup()

local requests = {}   -- pre-built requests (static, cycle)
local next_index = 1
local path_parts, body_parts
local method, prefix, salt
local counter = 0
local unique = false

function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

local function split(text)
   local parts, start = {}, 1
   while true do
      local i, j = string.find(text, MARKER, start, true)
      if not i then
         table.insert(parts, string.sub(text, start))
         return parts
      end
      table.insert(parts, string.sub(text, start, i - 1))
      start = j + 1
   end
end

local function read_file(name)
   local f = assert(io.open(name, "rb"))
   local text = f:read("*a")
   f:close()
   return text
end

local function build(uid)
   local path = table.concat(path_parts, uid)
   local body = body_parts and table.concat(body_parts, uid) or nil
   return wrk.format(method, path, nil, body)
end

function init(args)
   local opts = {}
   for _, arg in ipairs(args) do
      local k, v = string.match(arg, "^([%w_]+)=(.*)$")
      if k then opts[k] = v end
   end
   method = opts.method or "GET"
   prefix = opts.prefix or ""
   path_parts = split(opts.path or "/")
   if opts.body and opts.body ~= "" then
      wrk.headers["Content-Type"] = "application/json"
      body_parts = split(read_file(opts.body))
   end
   math.randomseed(os.time() * 1000 + tid * 7919 + math.floor(os.clock() * 1e6))
   salt = tostring(math.random(1, 2147483646))
   local mode = opts.mode or "static"
   if mode == "static" then
      requests[1] = build("")
   elseif mode == "cycle" then
      local count = tonumber(opts.count) or 1
      for i = 0, count - 1 do
         requests[i + 1] = build(prefix .. string.format("%04d", i))
      end
      next_index = ((tid - 1) * 97) % count + 1   -- spread threads over the ids
   elseif mode ~= "unique" then
      error("unknown mode " .. mode)
   end
   unique = (mode == "unique")
end

function request()
   if unique then
      counter = counter + 1
      return build(prefix .. tid .. "-" .. salt .. "-" .. counter)
   end
   local r = requests[next_index]
   next_index = next_index + 1
   if next_index > #requests then next_index = 1 end
   return r
end

function response(status, headers, body)
   if status >= 200 and status < 300 and body
      and string.find(body, '"successful":false', 1, true) then
      failures = failures + 1
   end
end

function done(summary, latency, reqs)
   local failed = 0
   for _, thread in ipairs(threads) do
      failed = failed + (thread:get("failures") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,' ..
      '"write":%d,"status":%d,"timeout":%d,"failures":%d,"p50_us":%d,"p90_us":%d,' ..
      '"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
      e.timeout, failed, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean))
end
