"""The Lua scripts behind every write: each one is atomic and fenced by the scan's lock.

Every script gets ``KEYS = [lock, *ScanKeys.results()]`` and names them through a generated
preamble (``K.puts``, ``K['idx:spot']`` ...). Every fenced script first checks that the lock
still holds the scan's token, then pushes the expiry of every result key out to the TTL:
while a scan runs nothing it shows expires, and after it ends everything lives one TTL.

A full Redis (over ``maxmemory`` with ``noeviction``) refuses them: Redis 7 refuses a
script that declares its flags before it runs (``redis_door.script_flags``), and each
script checks memory itself before it writes (``over_memory``, for Redis 6 and for the
writes of a script that started with room): PUBLISH before each ticker, the assembly of
the contract keys before it writes them, counting what they will take. The refusal is an
``OOM`` error, as Redis's own, and what was written before it is whole: each ticker keeps
its new rows or its old ones.
"""

from __future__ import annotations

from .layout import CONTRACT, HASHES, SORTED_SETS, STATUS
from .summary import SCORED_SORTS

_NAMES = (*HASHES, *SORTED_SETS, *CONTRACT, *STATUS)
# over_memory(extra): whether Redis is over maxmemory under noeviction, or would be after
# ``extra`` more bytes; false where INFO cannot say (fakeredis) or there is no limit.
_MEMORY = """
local FULL = 'OOM Redis is over maxmemory (noeviction): the scan may not write more'
local function over_memory(extra)
  local info = redis.pcall('INFO', 'memory')
  if type(info) ~= 'string' then return false end
  if not string.find(info, 'maxmemory_policy:noeviction', 1, true) then return false end
  local limit = tonumber(string.match(info, 'maxmemory:(%d+)'))
  if not limit or limit == 0 then return false end
  return tonumber(string.match(info, 'used_memory:(%d+)')) + extra > limit
end
"""
_REFUSE_WHEN_FULL = "if over_memory(0) then return redis.error_reply(FULL) end\n"
_PREAMBLE = (
    _MEMORY
    + "local K = {}\n"
    + "".join(f"K[{name!r}] = KEYS[{number}]\n" for number, name in enumerate(_NAMES, start=2))
    + "local SCORED = {"
    + ", ".join(repr(f"idx:{sort}") for sort in SCORED_SORTS)
    + "}\n"
)
_FENCE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
local ttl = tonumber(ARGV[2])
for i = 2, #KEYS do redis.call('EXPIRE', KEYS[i], ttl) end
"""
#: Arguments per ticker in PUBLISH: symbol, outcome, payload, summary, scanned_at,
#: partial, calls, scores.
TICKER_ARGS = 7 + len(SCORED_SORTS)

# ARGV: token, ttl, progress JSON ('' to update the stored one), current ('' for none),
# credits + ('' when the provider bills none), then TICKER_ARGS per ticker. Progress counts
# the distinct tickers done and failed in this scan (the sets scan_done and scan_failed), so
# a batch published twice (a retried job) counts once. outcome is one of
#   ok      payload = rows JSON ('' when nothing qualifies: the ticker goes in no_puts),
#           summary JSON, scanned_at,
#           partial = failed expirations JSON ('' for none), calls = call rows JSON
#           ('' for none), scores
#   failed  payload = error text; the ticker's earlier rows, calls, summary and partial
#           stay (stale: rows and an error)
#   forget  the ticker left the watchlist: every trace of it goes
# Returns the new version.
PUBLISH = (
    _PREAMBLE
    + _FENCE
    + _REFUSE_WHEN_FULL
    + """
local version = redis.call('INCR', K.version)
local full = false
if ARGV[3] ~= '' then redis.call('DEL', K.scan_done, K.scan_failed) end
local function unlist(symbol)
  redis.call('HDEL', K.puts, symbol)
  redis.call('HDEL', K.summaries, symbol)
  redis.call('HDEL', K.partial, symbol)
  redis.call('ZREM', K.listed, symbol)
  for _, index in ipairs(SCORED) do redis.call('ZREM', K[index], symbol) end
end
for a = 6, #ARGV, TICKER_ARGS do
  if a > 6 and over_memory(0) then full = true break end
  local symbol, outcome, payload = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  if outcome ~= 'forget' then redis.call('SADD', K.scan_done, symbol) end
  if outcome ~= 'ok' or payload ~= '' then redis.call('ZREM', K.no_puts, symbol) end
  if outcome == 'failed' then
    redis.call('SADD', K.scan_failed, symbol)
    redis.call('HSET', K.errors, symbol, payload)
    redis.call('ZADD', K.failed, 0, symbol)
    redis.call('ZADD', K.listed, 0, symbol)
    redis.call('ZADD', K['idx:puts'], 'NX', 0, symbol)
  else
    redis.call('SREM', K.scan_failed, symbol)
    redis.call('HDEL', K.errors, symbol)
    redis.call('ZREM', K.failed, symbol)
    if outcome == 'forget' then
      redis.call('HDEL', K.scan_times, symbol)
      redis.call('HDEL', K.calls, symbol)
      unlist(symbol)
    else
      redis.call('HSET', K.scan_times, symbol, ARGV[a + 4])
      if ARGV[a + 6] == '' then redis.call('HDEL', K.calls, symbol)
      else redis.call('HSET', K.calls, symbol, ARGV[a + 6]) end
      if payload == '' then
        unlist(symbol)
        redis.call('ZADD', K.no_puts, 0, symbol)
      else
        redis.call('HSET', K.puts, symbol, payload)
        redis.call('HSET', K.summaries, symbol, ARGV[a + 3])
        if ARGV[a + 5] == '' then redis.call('HDEL', K.partial, symbol)
        else redis.call('HSET', K.partial, symbol, ARGV[a + 5]) end
        redis.call('ZADD', K.listed, 0, symbol)
        for offset, index in ipairs(SCORED) do
          local score = ARGV[a + 6 + offset]
          if score == '' then redis.call('ZREM', K[index], symbol)
          else redis.call('ZADD', K[index], score, symbol) end
        end
      end
    end
  end
  redis.call('ZADD', K.changes, version, symbol)
end
if ARGV[3] ~= '' then
  redis.call('SET', K.scan_progress, ARGV[3])
else
  local ok, progress = pcall(cjson.decode, redis.call('GET', K.scan_progress) or '')
  if ok and type(progress) == 'table' then
    progress.done = redis.call('SCARD', K.scan_done)
    progress.failed = redis.call('SCARD', K.scan_failed)
    progress.current = ARGV[4] ~= '' and ARGV[4] or cjson.null
    if ARGV[5] ~= '' then
      progress.credits = (tonumber(progress.credits) or 0) + tonumber(ARGV[5])
    end
    redis.call('SET', K.scan_progress, cjson.encode(progress))
  end
end
redis.call('EXPIRE', K.scan_progress, ttl)
if full then return redis.error_reply(FULL) end
return version
""".replace("TICKER_ARGS", str(TICKER_ARGS))
)

# Build the contract keys from the working set, inside Redis: no row crosses the network.
# Symbols are [A-Z0-9.-] (the watchlist checks them), so they need no JSON escaping.
# assemble(ttl) returns the tickers with puts and the puts; it raises OOM, writing nothing,
# when the new values would take Redis past maxmemory (counting the old ones they replace).
_ASSEMBLE = """
local function json_object(hash, quote)
  local flat, parts = redis.call('HGETALL', hash), {}
  for i = 1, #flat, 2 do
    local value = flat[i + 1]
    if quote then value = cjson.encode(value) end
    parts[#parts + 1] = '"' .. flat[i] .. '":' .. value
  end
  return '{' .. table.concat(parts, ',') .. '}'
end
local function assemble(ttl)
  local values = {
    {K.ticker_options, json_object(K.puts, false)},
    {K.ticker_calls, json_object(K.calls, false)},
    {K.ticker_scan_times, json_object(K.scan_times, true)},
  }
  local growth = 0
  for _, pair in ipairs(values) do
    local old = redis.pcall('STRLEN', pair[1])
    growth = growth + #pair[2] - (type(old) == 'number' and old or 0)
  end
  if over_memory(growth) then error({err = FULL}) end
  for _, pair in ipairs(values) do redis.call('SET', pair[1], pair[2], 'EX', ttl) end
  local counts, puts = redis.call('ZRANGE', K['idx:puts'], 0, -1, 'WITHSCORES'), 0
  for i = 2, #counts, 2 do puts = puts + tonumber(counts[i]) end
  return redis.call('HLEN', K.puts), puts
end
"""

# ARGV: token, ttl. Returns {tickers with puts, puts}.
ASSEMBLE = _PREAMBLE + _FENCE + _ASSEMBLE + "return {assemble(ttl)}\n"

# Set string keys (given after the fixed KEYS, one value each in ARGV from 3) and bump
# the version. ARGV: token, ttl, values...
SET_VALUES = (
    _PREAMBLE
    + _FENCE
    + _REFUSE_WHEN_FULL
    + """
local fixed = 1 + #{NAMES}
for i = fixed + 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[i - fixed + 2], 'EX', ttl)
end
return redis.call('INCR', K.version)
""".replace("#{NAMES}", str(len(_NAMES)))
)

# The heartbeat: push the lock's expiry (ARGV[3]) and every result key's expiry out, and
# say when the scan was last alive (ARGV[4], the heartbeat JSON). ARGV: token, ttl, lock
# ttl, heartbeat.
REFRESH = (
    _PREAMBLE
    + _FENCE
    + _REFUSE_WHEN_FULL
    + """
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('SET', K.scan_heartbeat, ARGV[4], 'EX', ttl)
return 1
"""
)

# Take the free lock (SET NX) and write the new scan's first heartbeat in the same step, so
# no reader ever sees a lock without a heartbeat. KEYS: lock, heartbeat. ARGV: token, lock
# ttl, heartbeat, ttl. Returns 1 when taken.
ACQUIRE = (
    _MEMORY
    + _REFUSE_WHEN_FULL
    + """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 0 end
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
return 1
"""
)

# End a scan as interrupted, in one step: compare-and-set on the lock (ARGV[1], '' for no
# lock) and on the time of the heartbeat the caller saw (ARGV[3]; '' for none, '*' for any),
# so only one caller reports a dead scan, and never one that has shown a sign of life since.
# Then assemble the contract keys from what the scan published, write the "Last scan"
# message (ARGV[4]), its facts (ARGV[5], completed with the puts) and the final progress
# (ARGV[6]), and free the lock, or hand it to the successor scan (ARGV[7], with its first
# heartbeat ARGV[8], for ARGV[9] seconds). ARGV[2] is the ttl. The listed tickers the scan
# never reached keep their rows, marked stale with the error ARGV[10] (their scan times
# say when they were fetched). Returns 1 when done.
INTERRUPT = (
    _PREAMBLE
    + _ASSEMBLE
    + """
local owner = redis.call('GET', KEYS[1]) or ''
if ARGV[7] ~= '' and owner == ARGV[7] then return 1 end
if owner ~= ARGV[1] then return 0 end
if ARGV[3] ~= '*' then
  local ok, beat = pcall(cjson.decode, redis.call('GET', K.scan_heartbeat) or '')
  local readable = ok and type(beat) == 'table' and type(beat.scan_id) == 'string'
  local at = readable and type(beat.at) == 'string' and beat.at or ''
  if at ~= ARGV[3] then return 0 end
end
if over_memory(0) then return redis.error_reply(FULL) end
local ttl = tonumber(ARGV[2])
local _, puts = assemble(ttl)
local facts = cjson.decode(ARGV[5])
facts.puts = puts
redis.call('SET', K.last_run, ARGV[4])
redis.call('SET', K.last_run_facts, cjson.encode(facts))
redis.call('SET', K.scan_progress, ARGV[6])
local version = redis.call('INCR', K.version)
for _, symbol in ipairs(redis.call('ZRANGE', K.listed, 0, -1)) do
  if redis.call('SISMEMBER', K.scan_done, symbol) == 0
      and redis.call('HEXISTS', K.errors, symbol) == 0 then
    redis.call('HSET', K.errors, symbol, ARGV[10])
    redis.call('ZADD', K.failed, 0, symbol)
    redis.call('ZADD', K.changes, version, symbol)
  end
end
if ARGV[7] ~= '' then
  redis.call('SET', KEYS[1], ARGV[7], 'EX', ARGV[9])
  redis.call('SET', K.scan_heartbeat, ARGV[8])
else
  redis.call('DEL', KEYS[1])
end
for i = 2, #KEYS do redis.call('EXPIRE', KEYS[i], ttl) end
return 1
"""
)

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# The "Last scan" message outside a scan (market closed): it replaces the facts of the
# last scan, which no longer describe the last run. KEYS: last_run, version, last_run_facts.
# ARGV: message, ttl.
SET_LAST_RUN = (
    _MEMORY
    + _REFUSE_WHEN_FULL
    + """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('DEL', KEYS[3])
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
"""
)

# After a scan lost its lock: when Redis holds neither a lock nor any progress, it lost
# its data (a restart without persistence), and the "Last scan" message says so.
# KEYS: lock, scan_progress, last_run, last_run_facts, version. ARGV: message, facts, ttl.
# Returns 1 when it wrote the message, 0 when Redis still had the scan's state.
REPORT_DATA_LOST = (
    _MEMORY
    + """
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if over_memory(0) then return redis.error_reply(FULL) end
redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[3])
redis.call('SET', KEYS[4], ARGV[2], 'EX', ARGV[3])
redis.call('INCR', KEYS[5])
redis.call('EXPIRE', KEYS[5], ARGV[3])
return 1
"""
)

# After a reader reported a scan dead (its heartbeat aged while Redis stalled), the scan's
# own process, alive all along, says what really happened: the stored facts and message are
# replaced only while they still name that scan with that reason. KEYS: last_run_facts,
# last_run, version. ARGV: scan id, old reason, new facts JSON, new message (JSON).
# Returns 1 when replaced.
REWORD_INTERRUPTION = (
    _MEMORY
    + _REFUSE_WHEN_FULL
    + """
local ok, facts = pcall(cjson.decode, redis.call('GET', KEYS[1]) or '')
if not ok or type(facts) ~= 'table' then return 0 end
if facts.scan_id ~= ARGV[1] or facts.outcome ~= 'interrupted' or facts.reason ~= ARGV[2] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3], 'KEEPTTL')
redis.call('SET', KEYS[2], ARGV[4], 'KEEPTTL')
redis.call('INCR', KEYS[3])
return 1
"""
)

# One dashboard page in symbol or score order. KEYS: listed, the order's set (listed
# itself for symbol order), summaries, errors, failed, changes, partial, no_puts. ARGV:
# offset, count, '1' for descending, failed (and no-put) tickers to name. Tickers without
# a score come last, by symbol. Returns {listed, symbols, summaries, errors, change
# versions, failed count, failed symbols, their errors, partial expirations, no-put count,
# no-put symbols}.
PAGE = """
local listed = redis.call('ZCARD', KEYS[1])
local scored = redis.call('ZCARD', KEYS[2])
local offset, count = tonumber(ARGV[1]), tonumber(ARGV[2])
local symbols = {}
if offset < scored and count > 0 then
  local stop = math.min(offset + count, scored) - 1
  local command = ARGV[3] == '1' and 'ZREVRANGE' or 'ZRANGE'
  symbols = redis.call(command, KEYS[2], offset, stop)
end
if #symbols < count and listed > scored then
  local unscored = redis.call('ZDIFF', 2, KEYS[1], KEYS[2])
  for i = math.max(offset - scored, 0) + 1, #unscored do
    if #symbols >= count then break end
    symbols[#symbols + 1] = unscored[i]
  end
end
local summaries, errors, changed, partial = {}, {}, {}, {}
if #symbols > 0 then
  summaries = redis.call('HMGET', KEYS[3], unpack(symbols))
  errors = redis.call('HMGET', KEYS[4], unpack(symbols))
  changed = redis.call('ZMSCORE', KEYS[6], unpack(symbols))
  partial = redis.call('HMGET', KEYS[7], unpack(symbols))
end
local failed = redis.call('ZRANGE', KEYS[5], 0, tonumber(ARGV[4]) - 1)
local failed_errors = {}
if #failed > 0 then failed_errors = redis.call('HMGET', KEYS[4], unpack(failed)) end
return {listed, symbols, summaries, errors, changed, redis.call('ZCARD', KEYS[5]), failed,
  failed_errors, partial, redis.call('ZCARD', KEYS[8]),
  redis.call('ZRANGE', KEYS[8], 0, tonumber(ARGV[4]) - 1)}
"""

# One user's dashboard page: PAGE cut to the symbols in their own set, at the cost of that
# set (ZINTER walks the smallest set), never of the whole universe. KEYS: as PAGE, then the
# user's symbols. Returns false when the user's set is missing, else PAGE's answer plus
# the user's symbols that no scan has reached yet (no ``changes`` score).
OWN_PAGE = """
if redis.call('EXISTS', KEYS[9]) == 0 then return false end
local own = KEYS[9]
local listed = redis.call('ZINTER', 2, KEYS[1], own)
local scored = redis.call('ZINTER', 2, KEYS[2], own, 'WEIGHTS', 1, 0)
local offset, count = tonumber(ARGV[1]), tonumber(ARGV[2])
local descending = ARGV[3] == '1'
local ordered, has_score = {}, {}
for i = 1, #scored do
  local symbol = descending and scored[#scored - i + 1] or scored[i]
  ordered[#ordered + 1] = symbol
  has_score[symbol] = true
end
for _, symbol in ipairs(listed) do
  if not has_score[symbol] then ordered[#ordered + 1] = symbol end
end
local symbols = {}
for i = offset + 1, math.min(offset + count, #ordered) do symbols[#symbols + 1] = ordered[i] end
local summaries, errors, changed, partial = {}, {}, {}, {}
if #symbols > 0 then
  summaries = redis.call('HMGET', KEYS[3], unpack(symbols))
  errors = redis.call('HMGET', KEYS[4], unpack(symbols))
  changed = redis.call('ZMSCORE', KEYS[6], unpack(symbols))
  partial = redis.call('HMGET', KEYS[7], unpack(symbols))
end
local sample = tonumber(ARGV[4])
local all_failed = redis.call('ZINTER', 2, KEYS[5], own)
local failed = {}
for i = 1, math.min(sample, #all_failed) do failed[i] = all_failed[i] end
local failed_errors = {}
if #failed > 0 then failed_errors = redis.call('HMGET', KEYS[4], unpack(failed)) end
local all_no_puts = redis.call('ZINTER', 2, KEYS[8], own)
local no_puts = {}
for i = 1, math.min(sample, #all_no_puts) do no_puts[i] = all_no_puts[i] end
local mine = redis.call('ZRANGE', own, 0, -1)
local waiting = {}
if #mine > 0 then
  local versions = redis.call('ZMSCORE', KEYS[6], unpack(mine))
  for i = 1, #mine do
    if not versions[i] then waiting[#waiting + 1] = mine[i] end
  end
end
return {#ordered, symbols, summaries, errors, changed, #all_failed, failed, failed_errors,
  partial, #all_no_puts, no_puts, waiting}
"""
