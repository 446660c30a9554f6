#!/usr/bin/env bash
# Every test of the project, as `make test` and .ci/run run it. Starts and stops its own labs (own state
# folders and ports, so a lab you keep running for the demo is not touched).
#
# Two lanes run side by side, because the lab stages mostly wait on KubeSphere's and kubefed's own timers
# (health probes every 10 s, a 20 s availableDelay, resyncs) while the other stages need the CPU:
#   checks: unit -> ansible-test sanity -> ansible-lint -> changelog -> molecule -> collection build and install
#           -> galaxy (galaxy-importer and antsibull-docs' linter on the built tarball)
#           -> lab-v41 (the lab's KubeSphere v4.1.3 mode: its binaries, build-binaries.sh --kubesphere v4.1.3,
#              then tests on its own labs): this lane is idle after galaxy while the lab stages still run. When the
#              lab stages must take turns (inotify limit, below) it runs after them in the labs lane. The default
#              run holds the v4.1 fleet test only (tests/integration/test_v41_playbooks.py: site.yml on a fresh
#              v4.1.3 lab with a direct and a proxy member, the tower and kubefed extensions, the project, a rerun
#              that writes nothing, status, doctor, unbind): on a fresh 2-core machine its binaries (about 7 min of
#              both cores when idle, 10-14 min beside the lab stages) and every v4.1 test (four labs, about 20 min)
#              after the checks lane (20-28 min) would end the run past the 60-minute budget. Naming lab-v41, or
#              KS_TEST_V41=1, runs every v4.1 test: the contract tests tests/lab/tests/test_real_v41_*.py and
#              tests/integration/test_v41_*.py (the AWX jobs on a v4.1 fleet among them).
#   labs:   the lab's binaries (tests/lab/build-binaries.sh; cached in ~/.cache/kslab) -> then at once:
#           lab (tests/lab/tests: kube-apiservers, KubeSphere's real control plane, the installer stand-in),
#           integration-1, -2 and -3 (tests/integration, split by file), awx (tests/awx)
# Each stage has its own lab state folder, its own port base for its shared lab and its own port range for its
# private labs (KSLAB_PRIVATE_PORTS), so stages never meet. A stage's output goes to build/test-results/<stage>.log;
# one line says when each stage ends, a failed stage's log is printed at the end, and the last line sums every
# pytest stage as "N passed, N failed, N skipped". Every requested stage must report (one whose lane died
# before it recorded a result fails), and a pytest stage that collects no test, or whose tests were all
# skipped or xfailed, fails (tests/run_all_summary.py).
#
#   tests/run-all.sh                 every stage, then `evidence`: docs/evidence.md must be what the integration
#                                    stages' results (build/evidence/) render (tests/evidence/render.py --check)
#   tests/run-all.sh sanity lint     only those stages (unit lab integration awx sanity lint changelog molecule build
#                                    galaxy lab-v41); `lab-v41` alone builds only the v4.1.3 set (it holds Kubernetes'
#                                    binaries too); the `lab` and integration stages leave the v4.1 files out
#   KS_TEST_V41=1 tests/run-all.sh   every stage, lab-v41 with every v4.1 test
#   KSLAB_TEST_SERIAL=1 tests/run-all.sh    one stage after the other, output straight to the terminal
#   KS_TEST_PORT_SHIFT=N tests/run-all.sh ...   every stage's ports moved by N (a second run on the same machine)
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
BIN="$REPO/.venv/bin"
RESULTS="${KS_TEST_RESULTS:-$REPO/build/test-results}"  # KS_TEST_RESULTS: tests/unit/test_run_all_summary.py
rm -rf "$RESULTS" && mkdir -p "$RESULTS"
export ANSIBLE_COLLECTIONS_PATH="$REPO/build/collections" ANSIBLE_CONFIG="$REPO/ansible.cfg" PATH="$BIN:$PATH"
export KSLAB_INSTALLER_DELAY="${KSLAB_INSTALLER_DELAY:-1}"
SERIAL="${KSLAB_TEST_SERIAL:-0}"
T0=$(date +%s)

stage() {  # stage NAME COMMAND...: runs it, records its exit code and time in $RESULTS/NAME.{rc,secs}
  local name=$1; shift
  local t0=$(date +%s) rc
  if [ "$SERIAL" = 1 ]; then
    echo; echo "=== $name ==="
    "$@"; rc=$?
  else
    echo "--- $name: started at +$(( t0 - T0 )) s"
    "$@" >"$RESULTS/$name.log" 2>&1; rc=$?
  fi
  echo "$rc" >"$RESULTS/$name.rc"; echo $(( $(date +%s) - t0 )) >"$RESULTS/$name.secs"
  local summary=""
  [ "$SERIAL" = 1 ] || summary=$(grep -E "^(=+ )?[0-9]+ (passed|failed)|(passed|failed|error).* in [0-9.]+s" "$RESULTS/$name.log" | tail -n1)
  echo "=== $name: $([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)") in $(cat "$RESULTS/$name.secs") s${summary:+ ($summary)} ==="
  return 0
}

SHIFT="${KS_TEST_PORT_SHIFT:-0}"
pytest_stage() {  # pytest_stage NAME STATE_DIR PORT_BASE PRIVATE_PORTS PATHS...
  # Runs against its own lab (own state folder and ports), its private labs take ports from PRIVATE_PORTS
  # (low-high), and it stops only its own lab.
  local name=$1 state=$2 port=$(( $3 + SHIFT )) private="$(( ${4%-*} + SHIFT ))-$(( ${4#*-} + SHIFT ))"; shift 4
  env KSLAB_STATE="$state" KSLAB_PORT_BASE="$port" KSLAB_PRIVATE_PORTS="$private" \
    "$BIN/pytest" -q -p no:cacheprovider --timeout=900 --junitxml="$RESULTS/$name.xml" \
      -o junit_logging=system-out -o junit_log_passing_tests=false "$@"
  local rc=$?
  [ $rc -eq 5 ] && echo "($name: no tests collected: this stage must run tests)"
  # pytest exits 0 when every test was skipped or xfailed: that stage proved nothing and fails too
  [ $rc -eq 0 ] && { "$BIN/python" "$REPO/tests/run_all_summary.py" --check-junit "$name" "$RESULTS/$name.xml" || rc=1; }
  [ -f "$state/lab.json" ] && KSLAB_STATE="$state" "$REPO/tests/lab/kslab" down >/dev/null 2>&1
  return $rc
}

sanity() {
  local dest="$REPO/build/ansible-test/ansible_collections/kubesphere/multicluster"
  rm -rf "$REPO/build/ansible-test" && mkdir -p "$dest"
  # What ships, plus its unit tests: the lab (test equipment) and benchmarks are not collection content.
  git ls-files -z -co --exclude-standard | grep -zv -e '^tests/lab/' -e '^tests/bench/' -e '^\.ci/' \
    | tar --null -T - -cf - | tar -xf - -C "$dest"
  # kubernetes.core beside it, so doc fragments and imports resolve (ansible-test sees only this tree).
  local kc
  kc=$("$BIN/python" -c 'import ansible_collections.kubernetes.core as m; print(list(m.__path__)[0])')
  mkdir -p "$REPO/build/ansible-test/ansible_collections/kubernetes" && cp -r "$kc" "$REPO/build/ansible-test/ansible_collections/kubernetes/core"
  (cd "$dest" && git init -q && git add -A)
  local ver
  ver=$(sed -nE "s/.*pip='([0-9.]+)'.*/\1/p" "$("$BIN/python" -c 'import ansible_test,os;print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py" | head -n1 | tr . _)
  ver=${ver:-24_2}
  mkdir -p "$HOME/.ansible/test/cache" && cp "$REPO/tests/sanity/get_pip_shim.py" "$HOME/.ansible/test/cache/get_pip_$ver.py"
  (cd "$dest" && "$BIN/ansible-test" sanity --python 3.11 --local --color no --exclude tests/sanity/get_pip_shim.py)
}

# molecule installs the collection into ~/.ansible/collections; a copy left there from an earlier run
# would shadow this checkout for ansible-lint, so it is removed before lint and after molecule.
STALE_COPY="$HOME/.ansible/collections/ansible_collections/kubesphere/multicluster"
lint() { rm -rf "$STALE_COPY"; "$BIN/ansible-lint" --offline -q; }

# The changelog: every fragment in changelogs/fragments and changelogs/changelog.yaml as antsibull-changelog
# reads them (a fragment with an unknown section or a non-list entry fails here, not at release time).
changelog() {
  (cd "$REPO" && "$BIN/antsibull-changelog" lint && "$BIN/antsibull-changelog" lint-changelog-yaml --strict changelogs/changelog.yaml)
}

molecule_all() {
  [ -d extensions/molecule ] || { echo "(no molecule scenarios)"; return 0; }
  "$BIN/molecule" test --all
  local rc=$?
  rm -rf "$STALE_COPY"
  return $rc
}

build_install() {
  local out="$REPO/build/dist"
  rm -rf "$out" && mkdir -p "$out"
  "$BIN/ansible-galaxy" collection build --force --output-path "$out" . \
    && "$BIN/ansible-galaxy" collection install --offline --force "$out"/kubesphere-multicluster-*.tar.gz -p "$out/installed" \
    && test -f "$out/installed/ansible_collections/kubesphere/multicluster/plugins/modules/cluster_info.py"
}

# Galaxy's own import check and the docs linter of Ansible's documentation build, on the built tarball (what
# ships): the tarball of the build stage when it ran, else one built here. Both run on a copy outside this
# checkout, with kubernetes.core beside it: antsibull-docs copies a collection that sits in a git work tree
# (and this checkout's .venv, which holds kubernetes.core, does) by `git ls-files`, which is nothing for an
# ignored folder; and the linter finds a dependency through `ansible-galaxy collection list`, whose order of
# paths is not stable, so it runs with only this copy in sight (no sys.path scan: the venv's kubernetes.core
# would be copied by `git ls-files`, that is empty). galaxy-importer runs ansible-doc (ansible-test is the
# sanity stage's, ansible-lint with Galaxy's production profile the lint stage's: galaxy-importer gives it a
# fixed 180 s that a loaded 2-core machine overruns); it must print no WARNING and no ERROR line, and the
# linter no finding.
galaxy() {
  local work tarball rc=0
  work=$(mktemp -d "${TMPDIR:-/tmp}/ks-galaxy.XXXXXX") || return 1
  tarball=$(ls "$REPO"/build/dist/kubesphere-multicluster-*.tar.gz 2>/dev/null | head -n1)
  if [ "$(cat "$RESULTS/build.rc" 2>/dev/null)" != 0 ] || [ -z "$tarball" ]; then
    "$BIN/ansible-galaxy" collection build --force --output-path "$work" . || { rm -rf "$work"; return 1; }
    tarball=$(ls "$work"/kubesphere-multicluster-*.tar.gz | head -n1)
  fi
  echo "tarball: $tarball"
  local coll="$work/ansible_collections/kubesphere/multicluster" kc
  mkdir -p "$coll" "$work/ansible_collections/kubernetes" && tar -xzf "$tarball" -C "$coll" || { rm -rf "$work"; return 1; }
  kc=$("$BIN/python" -c 'import ansible_collections.kubernetes.core as m; print(list(m.__path__)[0])')
  cp -r "$kc" "$work/ansible_collections/kubernetes/core"
  printf '[galaxy-importer]\nrun_ansible_test = False\nrun_ansible_doc = True\nrun_ansible_lint = False\ncheck_changelog = True\n' >"$work/galaxy-importer.cfg"
  echo "=== galaxy-importer $("$BIN/python" -c 'import importlib.metadata as m; print(m.version("galaxy-importer"))') on $(basename "$tarball")"
  (cd "$work" && env GALAXY_IMPORTER_CONFIG="$work/galaxy-importer.cfg" ANSIBLE_COLLECTIONS_PATH="$work" \
     "$BIN/python" -m galaxy_importer.main "$tarball") >"$work/importer.log" 2>&1 || rc=1
  cat "$work/importer.log"
  if grep -E "WARNING|ERROR" "$work/importer.log" >/dev/null; then
    echo "(galaxy-importer: the WARNING/ERROR lines above must be fixed)"; rc=1
  fi
  grep -qx "Importer processing completed successfully" "$work/importer.log" || { echo "(galaxy-importer did not complete)"; rc=1; }
  echo "=== antsibull-docs lint-collection-docs --plugin-docs"
  if (cd "$work" && ANSIBLE_COLLECTIONS_PATH="$work" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=False "$BIN/antsibull-docs" lint-collection-docs --plugin-docs "$coll"); then
    echo "(antsibull-docs: no finding)"
  else
    echo "(antsibull-docs: the findings above must be fixed)"; rc=1
  fi
  rm -rf "$work"
  return $rc
}

want() {  # no arguments: every stage; else only the named ones
  [ ${#STAGES[@]} -eq 0 ] && return 0
  local s; for s in "${STAGES[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1
}
want_v41() {  # lab-v41: in the default run, or when named (tests/run_all_summary.py agrees)
  want lab-v41
}
v41_tests() {  # the default run: the v4.1 fleet test; named, or KS_TEST_V41=1: every v4.1 test
  if [ ${#STAGES[@]} -eq 0 ] && [ "${KS_TEST_V41:-0}" != 1 ]; then echo tests/integration/test_v41_playbooks.py
  else echo tests/lab/tests/test_real_v41_*.py tests/integration/test_v41_*.py; fi
}
STAGES=("$@")
[ ${#STAGES[@]} -eq 0 ] && rm -rf "$REPO/build/evidence"  # the default run renders only its own results

# tests/integration in three parts of about equal length, split by file (times of a full run on the 2-core
# machine: bad input 880 s, join 555 s, faults 517 s, forced unbinds 965 s, federation 711 s, roles 451 s):
# the first holds the import, connection, progress, proxy-address, bad-input and fault tests (the faults on a
# private lab of their own), the third the tests that mostly wait on KubeSphere's and kubefed's timers on private
# labs of their own (forced unbinds and the dead member; each operation's check-mode plan against its real run;
# version detection, clean members and the doctor), the second every other file.
INTEGRATION_1=(test_join.py test_connections.py test_progress.py test_proxy_publish_address.py
               test_bad_input.py test_faults.py)
INTEGRATION_3=(test_forced_unbind_dead.py test_health_dead_member.py test_plan_*.py test_versions.py
               test_clean_member.py test_doctor.py)
integration_files() {  # integration_files 1|2|3
  local f base group l
  for f in tests/integration/test_*.py; do
    base=${f##*/}; group=2
    case "$base" in test_v41_*) continue ;; esac  # KubeSphere v4.1.3 fleets: the lab-v41 stage
    for l in "${INTEGRATION_1[@]}"; do [ "$l" = "$base" ] && group=1; done
    for l in "${INTEGRATION_3[@]}"; do case "$base" in $l) group=3 ;; esac; done
    [ "$1" = "$group" ] && echo "$f"
  done
  return 0
}

# Every kube-apiserver, ks-apiserver and ks-controller-manager watches its certificates with inotify (about
# 14 instances per 3-cluster lab); the lab stages at once, each with its shared lab and a private one, need
# more than the kernel's default of 128 per user. Raised where we may (root), else the stages take turns
# (TOGETHER=0: the labs lane runs its stages one after the other, and lab-v41 after them in that lane).
TOGETHER=1
inotify_limit() {
  local limit=/proc/sys/fs/inotify/max_user_instances have
  have=$(cat "$limit" 2>/dev/null || echo 0)
  if [ "$SERIAL" != 1 ] && [ "$have" -lt 512 ]; then
    if { echo 512 >"$limit"; } 2>/dev/null; then echo "(fs.inotify.max_user_instances raised from $have to 512 for the lab stages side by side)"
    else echo "(fs.inotify.max_user_instances is $have and cannot be raised here: the lab stages run one after the other)"; TOGETHER=0; fi
  fi
}

checks_lane() {
  want unit && stage unit pytest_stage unit "$REPO/build/lab-unit" 26300 31000-31900 tests/unit
  want sanity && stage sanity sanity
  want lint && stage lint lint
  want changelog && stage changelog changelog
  want molecule && stage molecule molecule_all
  want build && stage build build_install
  want galaxy && stage galaxy galaxy
  if want_v41 && v41_in_checks_lane; then v41_stages; fi
}

v41_in_checks_lane() {  # else after the lab stages, in the labs lane (they take turns)
  [ $TOGETHER = 1 ] || ! { want lab || want integration || want awx; }
}

# The lab's KubeSphere v4.1.3 mode: its binaries (the v4.1.3 set: Kubernetes' three, tower and kubefed's
# controller-manager, shared with the 3.4 set and built by lab-binaries first in a default run, then
# ks-controller-manager and ks-apiserver v4.1.3, helm, kubectl, hyperfed and the kubefed extension's backend; on a
# fresh machine ks-controller-manager took 355 s of CPU, ks-apiserver 64 s after it; kubectl reuses the Kubernetes
# packages lab-binaries compiled, hyperfed kubefed's, the backend about 77 s; helm and KubeSphere v4.1.3 share none
# with them), then its tests on its own labs and ports.
v41_stages() {
  stage lab-v41-binaries "$REPO/tests/lab/build-binaries.sh" --kubesphere v4.1.3
  if [ "$(cat "$RESULTS/lab-v41-binaries.rc")" != 0 ]; then echo "(the v4.1.3 binaries did not build: lab-v41 does not run)"; return 0; fi
  local contract_base=$(( 24000 + SHIFT ))  # the lab tests' own fixed-port labs (tests/lab/tests/conftest.py)
  KSLAB_TEST_PORT_BASE=$contract_base stage lab-v41 pytest_stage lab-v41 "$REPO/build/lab-v41" 24300 24000-24300 \
    $(v41_tests)
}

labs_lane() {
  want lab || want integration || want awx || return 0
  stage lab-binaries "$REPO/tests/lab/build-binaries.sh"
  if [ "$(cat "$RESULTS/lab-binaries.rc")" != 0 ]; then echo "(the lab's binaries did not build: no lab stage runs)"; return 0; fi
  # Port bases 100 apart (a 3-cluster lab uses 30 ports, tests/lab/kslabkit/layout.py `layout`); private labs
  # take blocks from each stage's own range.
  local pids=()
  run() { if [ "$SERIAL" = 1 ] || [ $TOGETHER = 0 ]; then "$@"; else "$@" & pids+=($!); fi; }
  want lab && run stage lab pytest_stage lab "$REPO/build/lab-lab" 26700 27000-28000 tests/lab/tests --ignore-glob='*test_real_v41_*'
  want integration && run stage integration-1 pytest_stage integration-1 "$REPO/build/lab-int1" 26800 28000-29000 $(integration_files 1)
  want integration && run stage integration-2 pytest_stage integration-2 "$REPO/build/lab-int2" 26500 29000-30000 $(integration_files 2)
  want integration && run stage integration-3 pytest_stage integration-3 "$REPO/build/lab-int3" 26400 25000-26000 $(integration_files 3)
  want awx && run stage awx pytest_stage awx "$REPO/build/lab-awx" 26900 30000-31000 tests/awx
  [ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
  if want_v41 && ! v41_in_checks_lane; then v41_stages; fi
}

if want lab || want integration || want awx || want_v41; then inotify_limit; fi
if [ "$SERIAL" = 1 ]; then
  checks_lane; labs_lane
else
  checks_lane & checks_pid=$!
  labs_lane & labs_pid=$!
  wait $checks_pid $labs_pid
fi

# The default run only (its integration stages write build/evidence/): docs/evidence.md must be what they render.
if [ ${#STAGES[@]} -eq 0 ]; then
  if [ "$(cat "$RESULTS"/integration-{1,2,3}.rc 2>/dev/null | tr -d '\n')" = 000 ]; then
    stage evidence "$BIN/python" "$REPO/tests/evidence/render.py" --check
  else echo "(evidence: not checked: an integration stage failed, so build/evidence/ is incomplete)"; fi
fi

echo
# Every requested stage must report: one that never wrote its .rc (its lane died) fails, and so does a pytest
# stage that ran no test or only skipped or xfailed ones (tests/run_all_summary.py, unit-tested).
"$BIN/python" "$REPO/tests/run_all_summary.py" "$RESULTS" --elapsed $(( $(date +%s) - T0 )) \
  $([ "$SERIAL" = 1 ] && echo --serial) "${STAGES[@]}"
