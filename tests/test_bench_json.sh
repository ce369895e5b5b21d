#!/bin/bash
# tern-bench --json: one JSON object per line, with the fields tools read.
set -euo pipefail
bench=$1
check() {
	python3 -c '
import json, sys
want = {k: set(v.split(",")) for k, v in (a.split("=") for a in sys.argv[1:])}
rows = 0
for line in sys.stdin:
    row = json.loads(line)
    kind = row["bench"]
    missing = want[kind] - set(row)
    assert not missing, f"{kind} row lacks {missing}: {line}"
    for k in want[kind]:
        if k not in ("bench", "method", "driver", "loop", "scenario", "cc", "phase", "mode", "pages"):
            v = row[k] if isinstance(row[k], list) else [row[k]]
            assert v and all(isinstance(x, (int, float)) for x in v), f"{k} is not numeric: {line}"
    # Sense, not only keys: no negative time, percentiles in order, rates
    # above 0, shares and utilizations within [0, 1].
    for k, v in row.items():
        if not isinstance(v, (int, float)):
            continue
        if k.endswith("_us") or k.endswith("_ns") or k.endswith("_ns_per_byte"):
            assert v >= 0, f"{k} = {v} is negative: {line}"
        if k.endswith("per_s") and not k.startswith("errors") or k in ("mb_per_s", "gbit_per_s", "goodput_gbps"):
            assert v > 0, f"{k} = {v} is not a positive rate: {line}"
        if k.endswith("_share") or k in ("jain", "utilization"):
            assert 0 <= v <= 1, f"{k} = {v} is outside [0, 1]: {line}"
    pcts = [row[k] for k in ("p50_us", "p90_us", "p99_us", "p999_us", "max_us") if k in row]
    assert pcts == sorted(pcts), f"percentiles out of order: {line}"
    rows += 1
assert rows > 0, "no rows"
print(f"{rows} rows ok")
' "$@"
}
"$bench" lat --json --count 2000 --rounds 2 | check \
	"lat=bench,method,driver,size,loop,n,p50_us,p90_us,p99_us,p999_us,max_us,tern_ratio"
"$bench" lat --json --count 2000 --rounds 2 --rate 5000 --driver sockets | check \
	"lat=bench,method,driver,size,loop,n,p50_us,p90_us,p99_us,p999_us,max_us,tern_ratio"
"$bench" logp --json --sizes 64,2048 --phase-seconds 2 | check \
	"logp=bench,driver,size,rtt_us,o_s_us,o_r_us,g_us,ci_rel" "logp_fit=bench,driver"
"$bench" tput --json --seconds 0.3 | check \
	"tput=bench,driver,engines,sessions,depth,size,calls_per_s,calls_per_s_per_engine,errors_per_s"
# Exits non-zero unless every session opened and completed a call.
"$bench" sessions --json --counts 200,800 --idle 0.5 --calls 0.01 | check \
	"sessions=bench,driver,sessions,established,setup_us_per_session,bytes_per_idle_session_end,idle_cpu_ns_per_session_second,idle_pkts_per_session_second,calls_per_second,sessions_called"
"$bench" sessions --json --driver uring --counts 500 --idle 0.2 --calls 0.1 | check \
	"sessions=bench,driver,sessions,established,setup_us_per_session,calls_per_second,sessions_called"
"$bench" stub --json --count 2000 --rounds 2 | check \
	"stub=bench,size,hand_p50_us,stub_p50_us,stub_over_hand"
"$bench" scale --json --seconds 0.2 --engines 1 --sessions 1,4 | check \
	"scale=bench,driver,engines,sessions,depth,size,calls_per_s,calls_per_s_per_engine,errors_per_s"
"$bench" bw --json --seconds 0.3 --sizes 65536,1048576 | check "bw=bench,driver,size,window,mb_per_s,gbit_per_s,retransmits,rtos"
"$bench" sim --json --scenario incast --senders 4 --ms 2 --cc all | check \
	"sim=bench,scenario,cc,senders,msg,goodput_gbps,utilization,jain,data_sent,data_lost,loss_rate,retransmits,qdelay_p50_us,qdelay_p99_us"
plot=$(mktemp --suffix=.svg)
"$bench" lat --count 2000 --rounds 2 --plot "$plot" >/dev/null
grep -q "<polyline" "$plot" && grep -q "</svg>" "$plot" && echo "plot ok"
rm -f "$plot"
# The simulated backend of each command.
"$bench" lat --json --driver sim --count 1000 | check \
	"lat=bench,method,driver,size,loop,n,p50_us,p90_us,p99_us,p999_us,max_us,tern_ratio"
"$bench" tput --json --driver sim --seconds 0.002 | check \
	"tput=bench,driver,engines,sessions,depth,size,calls_per_s,calls_per_s_per_engine,errors_per_s"
"$bench" bw --json --driver sim --sizes 65536 | check "bw=bench,driver,size,window,mb_per_s,gbit_per_s,retransmits,rtos"
"$bench" logp --json --driver sim --sizes 64,4096 | check \
	"logp=bench,driver,size,rtt_us,o_s_us,o_r_us,g_us,L_us,ci_rel" "logp_fit=bench,driver,G_ns_per_byte,g0_us"
"$bench" sim --json --scenario pingpong --count 2000 --cc aimd | check \
	"sim=bench,scenario,cc,size,n,p50_us,p90_us,p99_us,p999_us,max_us,cpu_ns_per_rt,retransmits"
"$bench" sim --json --scenario join --ms 3 --cc all | check \
	"sim=bench,scenario,cc,phase,goodput_gbps,flow0_share,flow1_share,jain,qdelay_p50_us,qdelay_p99_us"
plot=$(mktemp --suffix=.svg)
"$bench" sim --scenario incast --senders 4 --ms 2 --cc all --plot "$plot" >/dev/null
grep -q "swift" "$plot" && grep -q "</svg>" "$plot" && echo "sim plot ok"
rm -f "$plot"
# DPDK memif beside its raw baseline, where tern has DPDK.
if out=$("$bench" memif --json --count 2000 --seconds 0.2 2>/tmp/tern-bench-memif.$$); then
	echo "$out" | check "memif=bench,method,mode,pages,size,n,p50_us,p99_us,depth,rate_per_s" \
		"memif_ratio=bench,mode,rounds,p50_ratio,rate_ratio,p50_ratio_rounds,rate_ratio_rounds,client_frames_per_call,client_rx_per_poll"
	cpu=$("$bench" memif --cpu --json --no-huge --count 2000 2>/dev/null)
	echo "$cpu" | check "memif_cpu=bench,mode,pages,size,n,raw_ns,tern_ns,depth,raw_pipe_ns,tern_pipe_ns"
	echo "$cpu" | grep -q '"pages":"4k"' || { echo "memif --no-huge did not run on 4 KB pages" >&2; exit 1; }
	# It exits cleanly, on hugepages where the host has them: DPDK's own
	# teardown crashed there in 7 runs of 10, so a few runs catch it.
	for i in 1 2 3 4 5 6 7 8; do
		rc=0
		"$bench" memif --count 200 --seconds 0.05 --rounds 2 >/dev/null 2>&1 || rc=$?
		[ "$rc" = 0 ] || { echo "memif run $i exited with $rc" >&2; exit 1; }
	done
	echo "memif exits cleanly, 8 runs"
	# Zero-copy needs single-file segments, so it runs on 4 KB pages even
	# where hugepages are free (it failed to start there once).
	"$bench" memif --cpu --json --zero-copy --count 2000 2>/dev/null | grep -q '"mode":"zero-copy","pages":"4k"' ||
		{ echo "memif --zero-copy did not run" >&2; exit 1; }
	echo "memif zero-copy ok"
elif grep -q "built without DPDK" /tmp/tern-bench-memif.$$; then
	echo "memif skipped: no DPDK"
else
	cat /tmp/tern-bench-memif.$$ >&2
	rm -f /tmp/tern-bench-memif.$$
	exit 1
fi
rm -f /tmp/tern-bench-memif.$$
