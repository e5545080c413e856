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
