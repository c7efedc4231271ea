-- wrk script for read-mostly.sh: a read-mostly mix over a fixed set of sessions.
--
--   wrk -s read-mostly.lua URL -- SESSIONS_FILE THREADS [WRITE_PERCENT] [COOKIE_NAME]
--
-- SESSIONS_FILE has one session a line: "<cookie value> <session id>". Each wrk thread takes
-- every THREADS-th session. A request borrows the session that has waited longest with no
-- request in flight and gives it back when the response names it (the sample app's JSON
-- carries "sessionId"): every session of the file is used in turn, however many there are, so
-- no two requests use one session at once: each connection carries its own session, as a
-- browser would. WRITE_PERCENT of the requests (default 10, spread evenly) are
-- POST /api/counter, which changes an attribute; the others are GET /api/session.
-- done() prints one line starting with "BENCH " for read-mostly.sh to parse.

local threads = {}
local thread_count = 0

function setup(thread)
	thread:set("id", thread_count)
	thread_count = thread_count + 1
	table.insert(threads, thread)
end

-- Per thread (each thread has its own Lua state). Counters are globals for thread:get().
gets, posts, non2xx, lost, unpaired, fallback = 0, 0, 0, 0, 0, 0

local get_requests, post_requests = {}, {}
local index_of = {} -- session id -> index
local free = {} -- indexes with no request in flight, a queue: free[head] .. free[tail - 1]
local head, tail = 1, 1
local in_flight = {}
local write_percent = 10
local sent = 0
local next_fallback = 0
local verified = false

function init(args)
	local file, threads_total = args[1], tonumber(args[2])
	write_percent = tonumber(args[3] or "10")
	local cookie_name = args[4] or "SESSION"
	assert(file and threads_total, "usage: -- SESSIONS_FILE THREADS [WRITE_PERCENT] [COOKIE_NAME]")
	local line_number = 0
	for line in io.lines(file) do
		local cookie, session_id = line:match("^(%S+)%s+(%S+)")
		if cookie then
			if line_number % threads_total == id then
				local index = #get_requests + 1
				local headers = { ["Cookie"] = cookie_name .. "=" .. cookie, ["Accept"] = "application/json" }
				get_requests[index] = wrk.format("GET", "/api/session", headers)
				local post_headers = { ["Cookie"] = headers["Cookie"], ["Accept"] = "application/json",
					["Content-Length"] = "0" }
				post_requests[index] = wrk.format("POST", "/api/counter", post_headers)
				index_of[session_id] = index
				free[tail] = index
				tail = tail + 1
				in_flight[index] = 0
			end
			line_number = line_number + 1
		end
	end
	assert(#get_requests > 0, "thread " .. id .. " got no session from " .. file)
end

function request()
	if not verified and id == 0 then
		-- wrk calls request() once in thread 0 to check it before connecting: send nothing.
		verified = true
		return get_requests[1]
	end
	local index = nil
	if head < tail then
		index = free[head]
		free[head] = nil
		head = head + 1
	end
	if index == nil then
		-- Only after a lost response (timeout, error page, replaced session): share one.
		fallback = fallback + 1
		next_fallback = next_fallback % #get_requests + 1
		index = next_fallback
	end
	in_flight[index] = in_flight[index] + 1
	sent = sent + 1
	if math.floor(sent * write_percent / 100) > math.floor((sent - 1) * write_percent / 100) then
		posts = posts + 1
		return post_requests[index]
	end
	gets = gets + 1
	return get_requests[index]
end

function response(status, headers, body)
	if status < 200 or status > 299 then
		non2xx = non2xx + 1
	end
	if headers["Set-Cookie"] or headers["set-cookie"] then
		lost = lost + 1 -- the app made a new session: the one sent was not found
	end
	local session_id = body and body:match('"sessionId"%s*:%s*"([^"]+)"')
	local index = session_id and index_of[session_id]
	if index and in_flight[index] > 0 then
		in_flight[index] = in_flight[index] - 1
		if in_flight[index] == 0 then
			free[tail] = index
			tail = tail + 1
		end
	else
		unpaired = unpaired + 1
	end
end

function done(summary, latency, requests)
	local totals = { gets = 0, posts = 0, non2xx = 0, lost = 0, unpaired = 0, fallback = 0 }
	for _, thread in ipairs(threads) do
		for name, _ in pairs(totals) do
			totals[name] = totals[name] + (tonumber(thread:get(name)) or 0)
		end
	end
	local seconds = summary.duration / 1e6
	local errors = summary.errors
	io.write(string.format("BENCH requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
		.. "max_ms=%.3f non2xx=%d socket_errors=%d timeouts=%d gets=%d posts=%d lost=%d unpaired=%d fallback=%d\n",
		summary.requests, seconds, summary.requests / seconds,
		latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
		latency.max / 1000, totals.non2xx, errors.connect + errors.read + errors.write, errors.timeout,
		totals.gets, totals.posts, totals.lost, totals.unpaired, totals.fallback))
end
