-- Shared by the scripts: print rate and latency percentiles (ms) for bench_wrk.py to parse.
function report(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format("requests=%d\n", summary.requests))
  io.write(string.format("rate=%.2f\n", summary.requests / seconds))
  io.write(string.format("errors=%d\n", summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("non2xx=%d\n", summary.errors.status))
  for _, p in ipairs({50, 95, 99}) do
    io.write(string.format("p%d=%.3f\n", p, latency:percentile(p) / 1000))
  end
end
