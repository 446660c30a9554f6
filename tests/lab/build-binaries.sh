#!/usr/bin/env bash
# Build the lab's kube-apiserver and etcd from the Go module proxy, at the pinned Kubernetes version.
#
#   tests/lab/build-binaries.sh            build what is missing, print progress, exit 0 when all are cached
#   KSLAB_K8S_VERSION=v1.34.4 tests/lab/build-binaries.sh   another pin
#
# Binaries go to ${KSLAB_CACHE:-~/.cache/kslab}/<version>/bin, never into the repository. A binary is
# rebuilt only when it is missing or does not report the pinned version. Each binary is one step, so a cold
# build never has to fit into one long command.
#
# How: k8s.io/kubernetes requires its staging modules at v0.0.0, which the proxy does not serve. The wrapper
# module (tests/lab/kubebin, written here into the cache) pins each of them to v0.<minor>.<patch> with a
# replace line, generated from the go.mod that the proxy serves for k8s.io/kubernetes.
set -euo pipefail

K8S_VERSION="${KSLAB_K8S_VERSION:-v1.34.3}"
CACHE="${KSLAB_CACHE:-$HOME/.cache/kslab}/$K8S_VERSION"
BIN="$CACHE/bin"
MOD="$CACHE/kubebin"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0

say() { printf '[kslab build %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'kslab build: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "no Go toolchain on PATH: install Go 1.24 or newer (Debian: apt-get install golang-go; or https://go.dev/dl) and run again"
go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
[ "${go_minor:-0}" -ge 24 ] || die "Go $(go env GOVERSION) is too old: Kubernetes $K8S_VERSION needs Go 1.24 or newer"

minor=$(echo "$K8S_VERSION" | sed -E 's/^v1\.([0-9]+)\.([0-9]+)$/\1/')
patch=$(echo "$K8S_VERSION" | sed -E 's/^v1\.([0-9]+)\.([0-9]+)$/\2/')
[ -n "$minor" ] && [ "$minor" != "$K8S_VERSION" ] || die "KSLAB_K8S_VERSION must look like v1.34.3, not '$K8S_VERSION'"
STAGING="v0.$minor.$patch"

reports_version() {  # $1 binary, $2 expected version string
  [ -x "$1" ] && "$1" --version 2>/dev/null | grep -qF "$2"
}

etcd_version_wanted() {
  sed -nE 's/^\s+go\.etcd\.io\/etcd\/server\/v3 (v[0-9.]+).*/\1/p' "$K8S_GOMOD" | head -n1
}

mkdir -p "$BIN" "$MOD"
say "pinned Kubernetes $K8S_VERSION; cache $CACHE"
K8S_GOMOD=$(cd "$MOD" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -nE 's/^\s*"GoMod": "(.*)",?$/\1/p')
[ -f "$K8S_GOMOD" ] || die "the Go module proxy did not serve k8s.io/kubernetes@$K8S_VERSION (check GOPROXY=$(go env GOPROXY))"
ETCD_VERSION=$(etcd_version_wanted)
[ -n "$ETCD_VERSION" ] || die "could not read the etcd version that k8s.io/kubernetes@$K8S_VERSION requires"

if reports_version "$BIN/kube-apiserver" "$K8S_VERSION" && reports_version "$BIN/etcd" "${ETCD_VERSION#v}"; then
  say "kube-apiserver $K8S_VERSION and etcd $ETCD_VERSION are cached in $BIN: nothing to build"
  exit 0
fi

# 1. The wrapper module, generated from k8s's own go.mod.
if [ ! -f "$MOD/.ready" ] || ! grep -qF "k8s.io/kubernetes $K8S_VERSION" "$MOD/go.mod"; then
  say "step 1/4: writing the wrapper module (staging modules pinned to $STAGING, etcd $ETCD_VERSION)"
  rm -f "$MOD/go.mod" "$MOD/go.sum" "$MOD/.ready"
  k8s_go=$(sed -nE 's/^go ([0-9.]+)$/\1/p' "$K8S_GOMOD")
  {
    echo "module kslab.local/kubebin"
    echo
    echo "go $k8s_go"
    echo
    echo "require ("
    echo "	k8s.io/kubernetes $K8S_VERSION"
    echo "	go.etcd.io/etcd/server/v3 $ETCD_VERSION"
    echo ")"
    echo
    echo "replace ("
    sed -nE 's/^\s+(k8s\.io\/[a-z0-9-]+) v0\.0\.0( \/\/ indirect)?$/\1/p' "$K8S_GOMOD" | sort -u |
      while read -r m; do echo "	$m => $m $STAGING"; done
    echo ")"
  } > "$MOD/go.mod"
  cat > "$MOD/tools.go" <<'EOF'
//go:build tools

package kubebin

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
EOF
  say "step 2/4: resolving and downloading modules (first time: a few minutes)"
  (cd "$MOD" && go mod tidy -e >/dev/null 2>"$CACHE/tidy.log") || { tail -n 20 "$CACHE/tidy.log" >&2; die "module resolution failed (log: $CACHE/tidy.log)"; }
  (cd "$MOD" && go mod download) || die "module download failed"
  touch "$MOD/.ready"
else
  say "step 1-2/4: wrapper module ready"
fi

build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags="$ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date -X $pkg.gitCommit=kslab"
done

if reports_version "$BIN/etcd" "${ETCD_VERSION#v}"; then
  say "step 3/4: etcd $ETCD_VERSION cached"
else
  say "step 3/4: building etcd $ETCD_VERSION"
  t0=$(date +%s)
  (cd "$MOD" && go build -trimpath -ldflags "-s -w" -o "$BIN/etcd.new" go.etcd.io/etcd/server/v3) || die "etcd build failed: see the compiler output above"
  mv "$BIN/etcd.new" "$BIN/etcd"
  say "etcd built in $(( $(date +%s) - t0 )) s"
fi

if reports_version "$BIN/kube-apiserver" "$K8S_VERSION"; then
  say "step 4/4: kube-apiserver $K8S_VERSION cached"
else
  say "step 4/4: building kube-apiserver $K8S_VERSION (cold: about 3-4 minutes on 2 cores)"
  t0=$(date +%s)
  (cd "$MOD" && go build -trimpath -ldflags "$ldflags" -o "$BIN/kube-apiserver.new" k8s.io/kubernetes/cmd/kube-apiserver) \
    || die "kube-apiserver build failed: see the compiler output above"
  mv "$BIN/kube-apiserver.new" "$BIN/kube-apiserver"
  say "kube-apiserver built in $(( $(date +%s) - t0 )) s"
fi
reports_version "$BIN/kube-apiserver" "$K8S_VERSION" || die "the built kube-apiserver does not report $K8S_VERSION"
say "done: $BIN"
