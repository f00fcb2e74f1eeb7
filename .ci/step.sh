# Sourced by .ci/run and the step scripts it calls. `step TEXT` prints a step's heading with how
# long the run has taken so far (from .ci/run's start, or the script's own when it runs on its
# own), so a slow step shows in the log; STEP_PREFIX names the script ("aarch64: ").
export CI_START=${CI_START:-$(date +%s)}
step() { printf '\n=== %s%s  [%d s]\n' "${STEP_PREFIX:-}" "$*" "$(($(date +%s) - CI_START))"; }
