// The Lua side of the Redis store: gcra.ts's arithmetic run atomically inside Redis, for all the counters
// of one request in one call (so one round trip decides a request, and concurrent proxies cannot
// interleave between the read and the write). Time comes from the Redis server's clock, so replicas with
// skewed clocks still agree; tests may pass their own clock instead.
import { createHash } from 'node:crypto';
import { MAX_SLACK_MS, type CounterState } from './gcra.ts';

/** Times are ms since this epoch (2024-01-01T00:00:00Z): small numbers keep sub-µs precision in doubles. */
export const SCRIPT_EPOCH_S = 1_704_067_200;

// KEYS[i]: counter keys (one hash slot: they share the policy's hash tag).
// ARGV[1]: now in ms since the epoch, or "" to read the server clock.
// ARGV[2i], ARGV[2i+1]: period and emission interval (ms) of KEYS[i].
// Reply: {allowed, then per key: allowed, remaining, ceil(resetMs), ceil(retryAfterMs)}.
export const GCRA_LUA = `
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = (tonumber(t[1]) - ${SCRIPT_EPOCH_S}) * 1000 + tonumber(t[2]) / 1000
else
  now = tonumber(ARGV[1])
end
local stored = redis.call('MGET', unpack(KEYS))
local n = #KEYS
local all = 1
local news = {}
local reply = {0}
for i = 1, n do
  local period = tonumber(ARGV[2 * i])
  local interval = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(stored[i])
  if tat == nil or tat < now then tat = now end
  local newTat = tat + interval
  news[i] = newTat
  local slack = interval / 2
  if slack > ${MAX_SLACK_MS} then slack = ${MAX_SLACK_MS} end
  if newTat - now <= period + slack then
    local remaining = math.floor((period - (newTat - now)) / interval + 0.5)
    if remaining < 0 then remaining = 0 end
    reply[#reply + 1] = 1
    reply[#reply + 1] = remaining
    reply[#reply + 1] = math.ceil(newTat - now)
    reply[#reply + 1] = 0
  else
    all = 0
    reply[#reply + 1] = 0
    reply[#reply + 1] = 0
    reply[#reply + 1] = math.ceil(tat - now)
    reply[#reply + 1] = math.ceil(newTat - period - now)
  end
end
if all == 1 then
  for i = 1, n do
    local ttl = math.ceil(news[i] - now)
    if ttl < 1 then ttl = 1 end
    redis.call('SET', KEYS[i], string.format('%.17g', news[i]), 'PX', ttl)
  end
end
reply[1] = all
return reply
`;

export const GCRA_SHA = createHash('sha1').update(GCRA_LUA).digest('hex');

export function decodeReply(reply: unknown, count: number): { allowed: boolean; counters: CounterState[] } {
  if (!Array.isArray(reply) || reply.length !== 1 + 4 * count) {
    throw new TypeError(`unexpected rate-limit script reply: ${JSON.stringify(reply)}`);
  }
  const counters: CounterState[] = [];
  for (let i = 0; i < count; i++) {
    const o = 1 + 4 * i;
    counters.push({
      allowed: reply[o] === 1,
      remaining: Number(reply[o + 1]),
      resetMs: Number(reply[o + 2]),
      retryAfterMs: Number(reply[o + 3]),
    });
  }
  return { allowed: reply[0] === 1, counters };
}
