#!/usr/bin/env bash
# Every test of the project, as `make test` and .ci/run run it. Starts and stops its own labs (own state
# folders and ports, so a lab you keep running for the demo is not touched).
#
# Stages: unit -> the lab's own tests (tests/lab/tests: kube-apiservers, KubeSphere's real control plane,
# the installer stand-in) -> collection integration -> ansible-test sanity -> ansible-lint -> changelog -> molecule ->
# collection build and install. Every lab runs KubeSphere 3.4's real CRDs (../shared/kubesphere-crds) and
# binaries (tests/lab/build-binaries.sh). Each stage prints its time; the last line sums every pytest
# stage as "N passed, N failed, N skipped". A pytest stage that collects no test fails, unless it is
# marked as one that may be empty.
#
#   tests/run-all.sh                 every stage
#   tests/run-all.sh sanity lint     only those stages (unit lab integration awx sanity lint changelog molecule build)
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
BIN="$REPO/.venv/bin"
RESULTS="$REPO/build/test-results"
rm -rf "$RESULTS" && mkdir -p "$RESULTS"
export ANSIBLE_COLLECTIONS_PATH="$REPO/build/collections" ANSIBLE_CONFIG="$REPO/ansible.cfg" PATH="$BIN:$PATH"
export KSLAB_INSTALLER_DELAY="${KSLAB_INSTALLER_DELAY:-1}"
failed=()

stage() {  # stage NAME COMMAND...
  local name=$1; shift
  local t0=$(date +%s)
  echo; echo "=== $name ==="
  "$@"
  local rc=$?
  echo "=== $name: $([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)") in $(( $(date +%s) - t0 )) s ==="
  [ $rc -eq 0 ] || failed+=("$name")
}

pytest_stage() {  # pytest_stage NAME STATE_DIR PORT_BASE may-be-empty|must-collect PATHS...
  # Runs against its own lab (own state folder and ports) and stops only that lab.
  local name=$1 state=$2 port=$3 empty=$4; shift 4
  env KSLAB_STATE="$state" KSLAB_PORT_BASE="$port" \
    "$BIN/pytest" -q -p no:cacheprovider --timeout=900 --junitxml="$RESULTS/$name.xml" "$@"
  local rc=$?
  if [ $rc -eq 5 ]; then
    if [ "$empty" = may-be-empty ]; then echo "($name: no tests collected)"; rc=0
    else echo "($name: no tests collected: this stage must run tests)"; fi
  fi
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

want() {  # no arguments: every stage; else only the named ones (unit lab integration awx sanity lint changelog molecule build)
  [ ${#STAGES[@]} -eq 0 ] && return 0
  local s; for s in "${STAGES[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1
}
STAGES=("$@")

# Port bases 100 apart: a 3-cluster lab uses 30 ports (tests/lab/kslabkit/lab.py `layout`).
want unit && stage "unit tests" pytest_stage unit "$REPO/build/lab-unit" 26600 must-collect tests/unit
want lab && stage "lab: kube-apiservers, KubeSphere's control plane, installer stand-in" \
  pytest_stage lab "$REPO/build/lab-lab" 26700 must-collect tests/lab/tests
want integration && stage "collection integration" \
  pytest_stage integration "$REPO/build/lab-int" 26800 must-collect tests/integration
want awx && stage "AWX: jobs through ansible-runner, templates, execution environment, report in a browser" \
  pytest_stage awx "$REPO/build/lab-awx" 26900 must-collect tests/awx
want sanity && stage "ansible-test sanity" sanity
want lint && stage "ansible-lint" lint
want changelog && stage "changelog (antsibull-changelog lint)" changelog
want molecule && stage "molecule" molecule_all
want build && stage "collection build and install" build_install

echo
"$BIN/python" - "$RESULTS" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
t = f = e = s = 0
for path in glob.glob(sys.argv[1] + "/*.xml"):
    for suite in ET.parse(path).getroot().iter("testsuite"):
        t += int(suite.get("tests", 0)); f += int(suite.get("failures", 0))
        e += int(suite.get("errors", 0)); s += int(suite.get("skipped", 0))
print("%d passed, %d failed, %d skipped" % (t - f - e - s, f + e, s))
PY
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED stages: ${failed[*]}"
  exit 1
fi
