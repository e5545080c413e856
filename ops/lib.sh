# shellcheck shell=bash
# Shared by ops/install, ops/build, ops/test and ops/run. Sourced, never run.

OPS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$OPS_DIR/.." && pwd)

log() { printf '[ops] %s\n' "$*" >&2; }
die() { printf '[ops] error: %s\n' "$*" >&2; exit 1; }

# Phase timing: `phase NAME` starts one; `phase_summary` prints each phase's duration.
_phase_names=() _phase_secs=() _phase_current="" _phase_start=0
phase() {
  phase_end
  _phase_current=$1 _phase_start=$SECONDS
  log "== $1"
}
phase_end() {
  if [[ -n $_phase_current ]]; then
    _phase_names+=("$_phase_current") _phase_secs+=($((SECONDS - _phase_start)))
    _phase_current=""
  fi
}
phase_summary() {
  phase_end
  local i
  log "phase timings:"
  for i in "${!_phase_names[@]}"; do
    printf '[ops]   %-28s %5ss\n' "${_phase_names[$i]}" "${_phase_secs[$i]}" >&2
  done
}

# The first free TCP port on 127.0.0.1 from START (with PORT+1 free too, for a controller). Start
# below 32768: ports in the ephemeral range can be taken by any outgoing connection meanwhile.
# The machine's CPU time so far as "steal total" in clock ticks (the first line of /proc/stat), and
# the share of it the hypervisor gave to others between two such samples: a benchmark prints it
# beside each figure, so a slow run on a busy host can be told from slow code.
cpu_sample() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; ++i) t += $i; print $9, t; exit }' /proc/stat; }
steal_share() {  # steal_share "BEFORE" "AFTER" -> e.g. 0.031
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); d = y[2] - x[2]
    printf "%.3f\n", (d > 0 ? (y[1] - x[1]) / d : 0) }'
}

free_port_pair() {
  local p
  for ((p = $1; p < $1 + 2000; p += 2)); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && ! (exec 3<>"/dev/tcp/127.0.0.1/$((p + 1))") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# Prints a script's usage: the comment block after its shebang, without the "# ".
usage_of() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$1"; }
