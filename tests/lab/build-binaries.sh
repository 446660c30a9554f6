#!/usr/bin/env bash
# Build the lab's binaries: Kubernetes (etcd, kube-apiserver, kube-controller-manager), kubefed's
# controller-manager, and KubeSphere's real multi-cluster control plane (ks-controller-manager, ks-apiserver,
# tower's proxy and cluster-agent). Recipe and facts: docs/real-kubesphere.md of the shared notes.
#
#   tests/lab/build-binaries.sh                 build what is missing, one step per binary, exit 0 when all are cached
#   tests/lab/build-binaries.sh --only NAME     build one binary (NAME as listed by --list), or a group:
#                                               kubernetes, kubefed, kubesphere, tower
#   tests/lab/build-binaries.sh --force ...     rebuild even when cached (the Go build cache makes this fast)
#   tests/lab/build-binaries.sh --list          print each binary's path and whether it is cached
#   tests/lab/build-binaries.sh --kubesphere v4.1.3 [...]
#                                               (or KSLAB_KUBESPHERE=v4.1.3) the set for the lab's v4.1.3 mode instead:
#                                               Kubernetes, ks-controller-manager and ks-apiserver v4.1.3, helm,
#                                               kubectl, kustomize, tower, kubefed-controller-manager, hyperfed and
#                                               kubefed-extension (groups: kubernetes, kubesphere, tools, tower, kubefed)
#
# Where (the cache root is ${KSLAB_CACHE:-~/.cache/kslab}; never inside the repository):
#   <root>/v1.34.3/bin/{etcd,kube-apiserver,kube-controller-manager}     KSLAB_K8S_VERSION picks another pin
#   <root>/kubefed-v0.8.1/bin/kubefed-controller-manager
#   <root>/kubesphere-v3.4.1/bin/{ks-controller-manager,ks-apiserver}
#   <root>/tower-v0.2.1/bin/{tower-proxy,tower-agent}
#   with --kubesphere v4.1.3 (built only when asked):
#   <root>/kubesphere-v4.1.3/bin/{ks-controller-manager,ks-apiserver}
#   <root>/helm-v3.16.2/bin/helm
#   <root>/kubefed-v0.8.1/bin/{kubefed-controller-manager,hyperfed}   hyperfed: kubefed's webhook as the kubefed
#                                             extension's image runs it (`hyperfed webhook`; change five below)
#   <root>/kubefed-extension-v1.0.0/bin/kubefed-extension   the kubefed extension's backend (change six below)
#   <root>/v1.34.3/bin/{kubectl,kustomize}     kubectl at the lab's Kubernetes pin; kustomize is a two-line shim
#                                             (`kustomize build DIR` -> `kubectl kustomize DIR`) for helm's
#                                             post-renderer in KubeSphere's helm-executor Jobs
#   <root>/build-times.tsv    one line per step: finished (UTC), name, version, seconds, bytes, kind, load
#                             (kind: first = first build of that binary in this cache root, i.e. cold on a fresh
#                             machine; rebuild; forced = --force; prep = module download or unpack; load = the
#                             1-minute load average when the step started: other work on the machine slows it)
#
# A binary is not rebuilt when it reports the pinned version (--version; `version` for KubeSphere's) and, where
# the version alone does not say how it was built, its stamp file (bin/.NAME.stamp) matches: kubefed (wrapper
# module checksum), KubeSphere (source checksum, patch checksum), tower (no version output at all: source checksum,
# reflect2 version, patch checksum). Builds use GOTOOLCHAIN=local and CGO_ENABLED=0; one build at a time per cache root (flock).
#
# Sources:
# - Kubernetes: the Go module proxy, through a generated wrapper module (<root>/<version>/kubebin). k8s.io/kubernetes
#   requires its staging modules at v0.0.0, which the proxy does not serve: the wrapper pins each of them to
#   v0.<minor>.<patch> with a replace line generated from the go.mod the proxy serves for k8s.io/kubernetes.
# - kubefed v0.8.1: the Go module proxy, through its own wrapper module (<root>/kubefed-v0.8.1/kubefedbin), with
#   reflect2 v1.0.2 and json-iterator v1.1.12 (older ones panic on current Go) and kubefed's gnostic replace line.
# - KubeSphere v3.4.1: the proxy refuses kubesphere.io modules, so it is built offline (-mod=vendor) from
#   <repo>/../shared/kubesphere-src/kubesphere-v3.4.1-controlplane.tar.zst (sha256 checked), or from
#   KSLAB_KUBESPHERE_SRC: a v3.4.1 checkout (git clone --branch v3.4.1 https://github.com/kubesphere/kubesphere)
#   or another archive of one. Unpacked (or copied) into <root>/kubesphere-v3.4.1/src.
# - tower v0.2.1: <repo>/../shared/kubesphere-src/tower-v0.2.1.tar.zst (sha256 checked) or KSLAB_TOWER_SRC
#   (checkout or archive), then `go get github.com/modern-go/reflect2@v1.0.2` and dependencies from the proxy
#   (its committed vendor/ is stale; without the reflect2 bump the binaries panic at run time).
#
# THE TWO CHANGES TO KUBESPHERE'S SOURCE (applied to the unpacked copy in the cache, never committed):
#   ks-controller-manager v3.4.1 hard-codes its listen addresses: the webhook server on :8443 and the metrics
#   server on controller-runtime's default :8080, both on all interfaces and without a flag, so two labs on one
#   machine collide. The build adds cmd/controller-manager/app/zz_kslab_listen.go (a function that reads two
#   environment variables) and one call to it in cmd/controller-manager/app/server.go, on the line before
#   `mgr, err := manager.New(...)`. Effect, and nothing else:
#     KSLAB_KS_WEBHOOK_PORT=P      the webhook server listens on 127.0.0.1:P instead of :8443
#     KSLAB_KS_METRICS_ADDR=H:P    the metrics server listens on H:P instead of :8080 ("0" switches it off)
#   With both unset the manager options are untouched (the original :8443 and :8080); a port that is not a number
#   stops the process with a fatal log line. When KubeSphere's
#   server.go no longer has that line the build stops with one line saying so.
#   Second: ks-apiserver v3.4.1 serves its insecure port on ":<port>" (all interfaces) although it has a
#   --bind-address flag; cmd/ks-apiserver/app/options/options.go's one `Addr: fmt.Sprintf(":%d", ...InsecurePort)`
#   line is replaced by one that puts --bind-address in front (the lab passes 127.0.0.1). Nothing else changes.
#   Both patches' checksum is part of the KubeSphere binaries' stamps, so changing a patch rebuilds them.
#
# THE SAME TWO CHANGES FOR KUBESPHERE v4.1.3 (--kubesphere v4.1.3; same environment variables, same effect):
#   v4.1.3's ks-controller-manager builds its manager in cmd/controller-manager/app/options/options.go with a
#   webhook server on the fixed port 8443 and controller-runtime v0.19's default metrics address :8080, all
#   interfaces, no flag. The build adds cmd/controller-manager/app/options/zz_kslab_listen.go and one call on the
#   line before `mgr, err := manager.New(k8sClient.Config(), cmOptions)`:
#     KSLAB_KS_WEBHOOK_PORT=P      the webhook server (same certificate directory) listens on 127.0.0.1:P
#     KSLAB_KS_METRICS_ADDR=H:P    the metrics server listens on H:P instead of :8080 ("0" switches it off)
#   v4.1.3's ks-apiserver has the same `Addr: fmt.Sprintf(":%d", ...InsecurePort)` line as v3.4.1 in
#   cmd/ks-apiserver/app/options/options.go; it gets the same one-line change (honour --bind-address).
#   helm v3.16.2 comes from the Go module proxy (helm.sh/helm/v3, the version v4.1.3 vendors) with the ldflags
#   helm's Makefile sets; kubectl from the Kubernetes wrapper module's sibling <root>/<k8s>/kubectlbin.
#
# THE ONE CHANGE TO TOWER'S SOURCE (the third build-time change; applied to the unpacked copy in the cache, never
# committed): tower v0.2.1's proxy opens two listeners for every proxy member it serves (a port tower draws at
# random from 6000-7000, the constants portRangeMin/portRangeMax with no flag, and that port + 10000) on all
# interfaces (pkg/proxy/proxy_server.go `Addr: fmt.Sprintf(":%d", port)`). The build adds
# pkg/proxy/zz_kslab_bind.go (two functions that read one environment variable) and changes two lines:
# proxy_server.go's `Addr:` line calls kslabListenAddr(port), and proxy.go's allocatePort loop line
# `if !collision {` also asks kslabPortFree(port). Effect, and nothing else:
#     KSLAB_TOWER_BIND=ADDR   the per-member listeners listen on ADDR only (the lab passes 127.0.0.1), and the port
#                             draw skips a port whose two listeners cannot be opened on ADDR now (another lab's
#                             tower holds it: the range itself cannot be chosen in tower, so labs share it)
#   Unset, the listeners are ":<port>" and every drawn port is taken, as upstream. The patch's checksum is part of
#   tower's stamps, so changing it rebuilds tower-proxy and tower-agent. Where the lines are not found the build
#   stops with one line saying so.
#
# THE CHANGES FOR THE KUBEFED EXTENSION (--kubesphere v4.1.3; applied to copies in the cache, never committed):
#   Five: kubefed v0.8.1's webhook (cmd/webhook/app/webhook.go, run through cmd/hyperfed as the extension's image
#   does: `hyperfed webhook`; kubefed's own cmd/webhook panics at start) builds its manager with no Host and no
#   MetricsBindAddress, so it serves the webhook on all interfaces and metrics on controller-runtime's default :8080,
#   without a flag. The build copies the module from the module cache and inserts one line into those
#   manager.Options:
#     KUBEFED_WEBHOOK_HOST=H           the webhook server listens on H (the lab passes 127.0.0.1)
#     KUBEFED_WEBHOOK_METRICS_ADDR=A   the metrics server listens on A ("0" switches it off)
#   Unset, both keep upstream's behaviour. hyperfed is built from a wrapper module that replaces sigs.k8s.io/kubefed
#   with that copy.
#   Six: the kubefed extension's backend (kubesphere-extensions-kubefed-v1.0.0.tar.zst, cmd/controller) hard-codes
#   its health probe on ":8081" and takes controller-runtime's default metrics ":8080", all interfaces, no flag. Its
#   one `HealthProbeBindAddress:  ":8081",` line becomes two:
#     METRICS_BIND_ADDRESS=A, HEALTH_PROBE_BIND_ADDRESS=A   (empty probe address: no probe server; "0": no metrics)
#   Both patches' checksums are part of the binaries' stamps.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ROOT="${KSLAB_CACHE:-$HOME/.cache/kslab}"
SHARED_SRC="$(cd "$REPO/.." && pwd)/shared/kubesphere-src"
TIMES="$ROOT/build-times.tsv"

K8S_VERSION="${KSLAB_K8S_VERSION:-v1.34.3}"
K8S_DIR="$ROOT/$K8S_VERSION"
KUBEFED_VERSION=v0.8.1
KUBEFED_DIR="$ROOT/kubefed-$KUBEFED_VERSION"
KS_VERSION=v3.4.1
KS_COMMIT=3e0493a1c5e1c4413a7b77e8b408d428220ed929
KS_DIR="$ROOT/kubesphere-$KS_VERSION"
KS_ARCHIVE_SHA256=c5002cfffa066f0b56610d7d46e020cdf4a1353476d20eaf46a2f095d4301f22
TOWER_VERSION=v0.2.1
TOWER_DIR="$ROOT/tower-$TOWER_VERSION"
TOWER_ARCHIVE_SHA256=95fc4ae329e80bfc65c8c8a4d23e9e2a0db053e2d6a843dd443f1eae3819782c
REFLECT2=v1.0.2
HELM_VERSION=v3.16.2
HELM_DIR="$ROOT/helm-$HELM_VERSION"
KFX_VERSION=v1.0.0
KFX_DIR="$ROOT/kubefed-extension-$KFX_VERSION"
KFX_ARCHIVE_SHA256=3692edfc1123d5e6d3fb9e15fdea71013d0dd87a14b796a98a94321d47b98e3b

export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
# The Go compiler's garbage collector runs less often with GOGC=400 (KSLAB_BUILD_GOGC): a cold build of tower-proxy
# took 97 s of user CPU and 64 s on 2 cores instead of 129 s and 88 s (-25%), with a peak of 0.6 GB instead of
# 0.4 GB per compile; the lab stages wait for these builds on a fresh machine. The whole 3.4 set built cold with it
# in 740 s on an otherwise idle 2-core machine (1382 CPU-s; the largest compile peaked at 2.0 GB).
export GOGC="${KSLAB_BUILD_GOGC:-400}"

ALL=(etcd kube-apiserver kube-controller-manager kubefed-controller-manager ks-controller-manager ks-apiserver tower-proxy tower-agent)
GROUPS_HELP="kubernetes kubefed kubesphere tower"

say() { printf '[kslab build %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'kslab build: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '6,10p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
mins() { local s=$1; if [ "$s" -ge 60 ]; then printf '%d min %02d s' $((s / 60)) $((s % 60)); else printf '%d s' "$s"; fi; }

# --- arguments ----------------------------------------------------------------------------------------------
ONLY=() FORCE=0 LIST=0 KUBESPHERE="${KSLAB_KUBESPHERE:-v3.4.1}"
while [ $# -gt 0 ]; do
  case "$1" in
    --kubesphere) [ $# -ge 2 ] || die "--kubesphere needs a version (v3.4.1 or v4.1.3)"; KUBESPHERE=$2; shift 2 ;;
    --kubesphere=*) KUBESPHERE=${1#--kubesphere=}; shift ;;
    --only) [ $# -ge 2 ] || die "--only needs a name (a binary or group listed by --list)"; ONLY+=("$2"); shift 2 ;;
    --only=*) ONLY+=("${1#--only=}"); shift ;;
    --force) FORCE=1; shift ;;
    --list) LIST=1; shift ;;
    -h|--help) usage 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
case "$KUBESPHERE" in
  v3.4.1|3.4.1|3.4) ;;
  v4.1.3|4.1.3|4.1)
    KS_VERSION=v4.1.3
    KS_COMMIT=3ef3a6bc98b790480577e87fbc75bee5b3438862
    KS_DIR="$ROOT/kubesphere-$KS_VERSION"
    KS_ARCHIVE_SHA256=cdf67b2348d724240619ddae777fd67232be08acf2c3b8dfce42be77e3953924
    # tower v0.2.1 (the same build as the 3.4 set's): the tower extension's proxy and the member's cluster-agent
    ALL=(etcd kube-apiserver kube-controller-manager ks-controller-manager ks-apiserver helm kubectl kustomize tower-proxy tower-agent
         kubefed-controller-manager hyperfed kubefed-extension)
    GROUPS_HELP="kubernetes kubesphere tools tower kubefed" ;;
  *) die "--kubesphere: unknown version '$KUBESPHERE' (v3.4.1, the default, or v4.1.3)" ;;
esac

SELECTED=()
if [ ${#ONLY[@]} -eq 0 ]; then
  SELECTED=("${ALL[@]}")
else
  for want in "${ONLY[@]}"; do
    case "$want" in
      kubernetes) SELECTED+=(etcd kube-apiserver kube-controller-manager) ;;
      kubefed) if [ "$KS_VERSION" = v3.4.1 ]; then SELECTED+=(kubefed-controller-manager); else SELECTED+=(kubefed-controller-manager hyperfed kubefed-extension); fi ;;
      kubesphere) SELECTED+=(ks-controller-manager ks-apiserver) ;;
      tower) SELECTED+=(tower-proxy tower-agent) ;;
      tools) [ "$KS_VERSION" != v3.4.1 ] || die "--only tools: helm, kubectl and kustomize are built with --kubesphere v4.1.3"; SELECTED+=(helm kubectl kustomize) ;;
      *) printf '%s\n' "${ALL[@]}" | grep -qxF -- "$want" || die "--only: unknown binary '$want' (one of: ${ALL[*]} $GROUPS_HELP)"
         SELECTED+=("$want") ;;
    esac
  done
fi
selected() { printf '%s\n' "${SELECTED[@]}" | grep -qxF -- "$1"; }

bin_path() {
  case "$1" in
    etcd|kube-apiserver|kube-controller-manager) echo "$K8S_DIR/bin/$1" ;;
    kubefed-controller-manager|hyperfed) echo "$KUBEFED_DIR/bin/$1" ;;
    kubefed-extension) echo "$KFX_DIR/bin/$1" ;;
    ks-controller-manager|ks-apiserver) echo "$KS_DIR/bin/$1" ;;
    tower-proxy|tower-agent) echo "$TOWER_DIR/bin/$1" ;;
    helm) echo "$HELM_DIR/bin/helm" ;;
    kubectl|kustomize) echo "$K8S_DIR/bin/$1" ;;
  esac
}

# --- the ks-controller-manager listen-address patch (see the header) ----------------------------------------
KS_PATCH_ANCHOR='	mgr, err := manager.New(kubernetesClient.Config(), mgrOptions)'
KS_PATCH_CALL='	kslabListenAddresses(&mgrOptions) // kslab build-time patch: see zz_kslab_listen.go'
KS_PATCH_FILE='// Code added by the kslab build (tests/lab/build-binaries.sh of kubesphere.multicluster) to the copy of
// KubeSphere it builds for its test lab. Not part of KubeSphere.
//
// ks-controller-manager listens on fixed addresses (webhook :8443, metrics :8080, all interfaces), so two
// labs on one machine collide. These two environment variables move them; unset, nothing changes.

package app

import (
	"os"
	"strconv"

	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

func kslabListenAddresses(o *manager.Options) {
	if p := os.Getenv("KSLAB_KS_WEBHOOK_PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			klog.Fatalf("KSLAB_KS_WEBHOOK_PORT=%q is not a TCP port", p)
		}
		o.Host, o.Port = "127.0.0.1", n
	}
	if a := os.Getenv("KSLAB_KS_METRICS_ADDR"); a != "" {
		o.MetricsBindAddress = a
	}
}'
# ks-apiserver's insecure server listens on ":<insecure-port>" whatever --bind-address says: the second change
# makes it use --bind-address (the lab passes 127.0.0.1), as its secure server already does.
KS_APISERVER_ANCHOR='		Addr: fmt.Sprintf(":%d", s.GenericServerRunOptions.InsecurePort),'
KS_APISERVER_LINE='		Addr: fmt.Sprintf("%s:%d", s.GenericServerRunOptions.BindAddress, s.GenericServerRunOptions.InsecurePort), // kslab build-time patch: honour --bind-address'
KS_PATCH_SHA=$(printf '%s\n%s\n%s\n%s\n%s\n' "$KS_PATCH_ANCHOR" "$KS_PATCH_CALL" "$KS_PATCH_FILE" "$KS_APISERVER_ANCHOR" "$KS_APISERVER_LINE" | sha256sum | cut -c1-16)

apply_ks_patch() {  # $1 unpacked KubeSphere tree
  if [ "$KS_VERSION" = v4.1.3 ]; then apply_ks41_patch "$1"; return; fi
  local f="$1/cmd/controller-manager/app/server.go" n
  local nope="the ks-controller-manager listen-address patch no longer applies to this KubeSphere source"
  [ -f "$f" ] || die "$nope: cmd/controller-manager/app/server.go is missing"
  n=$(grep -cxF -- "$KS_PATCH_ANCHOR" "$f" || true)
  [ "$n" = 1 ] || die "$nope: expected exactly one line '${KS_PATCH_ANCHOR#	}' in cmd/controller-manager/app/server.go, found ${n:-0}"
  grep -q 'Port: *8443,' "$f" || die "$nope: cmd/controller-manager/app/server.go no longer sets the webhook port 8443"
  awk -v anchor="$KS_PATCH_ANCHOR" -v call="$KS_PATCH_CALL" '$0 == anchor { print call } { print }' "$f" > "$f.kslab" && mv "$f.kslab" "$f"
  printf '%s\n' "$KS_PATCH_FILE" > "$1/cmd/controller-manager/app/zz_kslab_listen.go"
  f="$1/cmd/ks-apiserver/app/options/options.go"
  nope="the ks-apiserver bind-address patch no longer applies to this KubeSphere source"
  n=$(grep -cxF -- "$KS_APISERVER_ANCHOR" "$f" 2>/dev/null || true)
  [ "$n" = 1 ] || die "$nope: expected exactly one line '${KS_APISERVER_ANCHOR#		}' in cmd/ks-apiserver/app/options/options.go, found ${n:-0}"
  awk -v anchor="$KS_APISERVER_ANCHOR" -v line="$KS_APISERVER_LINE" '$0 == anchor { print line; next } { print }' "$f" > "$f.kslab" && mv "$f.kslab" "$f"
}

# --- the v4.1.3 listen-address patches (see the header) ---------------------------------------------------------
KS41_PATCH_ANCHOR='	mgr, err := manager.New(k8sClient.Config(), cmOptions)'
KS41_PATCH_CALL='	kslabListenAddresses(&cmOptions, s.WebhookCertDir) // kslab build-time patch: see zz_kslab_listen.go'
KS41_PATCH_FILE='// Code added by the kslab build (tests/lab/build-binaries.sh of kubesphere.multicluster) to the copy of
// KubeSphere v4.1.3 it builds for its test lab. Not part of KubeSphere.
//
// ks-controller-manager listens on fixed addresses (webhook :8443, metrics :8080, all interfaces), so two
// labs on one machine collide. These two environment variables move them; unset, nothing changes.

package options

import (
	"os"
	"strconv"

	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

func kslabListenAddresses(o *manager.Options, certDir string) {
	if p := os.Getenv("KSLAB_KS_WEBHOOK_PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			klog.Fatalf("KSLAB_KS_WEBHOOK_PORT=%q is not a TCP port", p)
		}
		o.WebhookServer = webhook.NewServer(webhook.Options{CertDir: certDir, Host: "127.0.0.1", Port: n})
	}
	if a := os.Getenv("KSLAB_KS_METRICS_ADDR"); a != "" {
		o.Metrics.BindAddress = a
	}
}'

apply_ks41_patch() {  # $1 unpacked KubeSphere v4.1.3 tree
  local f="$1/cmd/controller-manager/app/options/options.go"
  [ -f "$f" ] || die "the ks-controller-manager listen-address patch no longer applies to this KubeSphere source: cmd/controller-manager/app/options/options.go is missing"
  grep -q 'Port: *8443,' "$f" || die "the ks-controller-manager listen-address patch no longer applies to this KubeSphere source: options.go no longer sets the webhook port 8443"
  replace_one_line "$f" "$KS41_PATCH_ANCHOR" "$KS41_PATCH_CALL
$KS41_PATCH_ANCHOR" "ks-controller-manager listen-address patch"
  printf '%s\n' "$KS41_PATCH_FILE" > "$1/cmd/controller-manager/app/options/zz_kslab_listen.go"
  replace_one_line "$1/cmd/ks-apiserver/app/options/options.go" "$KS_APISERVER_ANCHOR" "$KS_APISERVER_LINE" "ks-apiserver bind-address patch"
}

# --- the tower bind-address patch (see the header) ------------------------------------------------------------
TOWER_ADDR_ANCHOR='		Addr:      fmt.Sprintf(":%d", port),'
TOWER_ADDR_LINE='		Addr:      kslabListenAddr(port), // kslab build-time patch: see zz_kslab_bind.go'
TOWER_PORT_ANCHOR='		if !collision {'
TOWER_PORT_LINE='		if !collision && kslabPortFree(port) { // kslab build-time patch: see zz_kslab_bind.go'
TOWER_PATCH_FILE='// Code added by the kslab build (tests/lab/build-binaries.sh of kubesphere.multicluster) to the copy of
// tower it builds for its test lab. Not part of tower.
//
// tower opens two listeners per proxy member (a port drawn from 6000-7000 and that port + 10000) on all
// interfaces, without a flag. KSLAB_TOWER_BIND=ADDR makes them listen on ADDR only, and makes the port draw
// skip a port whose listeners cannot be opened on ADDR now (another tower on the machine holds it).
// Unset, nothing changes.

package proxy

import (
	"net"
	"os"
	"strconv"
)

func kslabListenAddr(port uint16) string {
	return net.JoinHostPort(os.Getenv("KSLAB_TOWER_BIND"), strconv.Itoa(int(port)))
}

func kslabPortFree(port uint16) bool {
	bind := os.Getenv("KSLAB_TOWER_BIND")
	if bind == "" {
		return true
	}
	for _, p := range []int{int(port), int(port) + 10000} {
		l, err := net.Listen("tcp", net.JoinHostPort(bind, strconv.Itoa(p)))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}'
TOWER_PATCH_SHA=$(printf '%s\n%s\n%s\n%s\n%s\n' "$TOWER_ADDR_ANCHOR" "$TOWER_ADDR_LINE" "$TOWER_PORT_ANCHOR" "$TOWER_PORT_LINE" "$TOWER_PATCH_FILE" | sha256sum | cut -c1-16)

replace_one_line() {  # file anchor line what: the one line equal to anchor becomes line, or the build stops
  local f=$1 anchor=$2 line=$3 nope="the $4 no longer applies to this source" n
  n=$(grep -cxF -- "$anchor" "$f" 2>/dev/null || true)
  [ "$n" = 1 ] || die "$nope: expected exactly one line '$(printf '%s' "$anchor" | sed 's/^[[:space:]]*//')' in ${f##*/src.new/}, found ${n:-0}"
  awk -v anchor="$anchor" -v line="$line" '$0 == anchor { print line; next } { print }' "$f" > "$f.kslab" && mv "$f.kslab" "$f"
}

apply_tower_patch() {  # $1 unpacked tower tree
  replace_one_line "$1/pkg/proxy/proxy_server.go" "$TOWER_ADDR_ANCHOR" "$TOWER_ADDR_LINE" "tower bind-address patch"
  replace_one_line "$1/pkg/proxy/proxy.go" "$TOWER_PORT_ANCHOR" "$TOWER_PORT_LINE" "tower bind-address patch"
  grep -q '^	portRangeMin = 6000$' "$1/pkg/proxy/proxy.go" \
    || die "the tower bind-address patch no longer applies to this source: pkg/proxy/proxy.go no longer draws ports from 6000"
  printf '%s\n' "$TOWER_PATCH_FILE" > "$1/pkg/proxy/zz_kslab_bind.go"
}

# --- checks and bookkeeping ---------------------------------------------------------------------------------
need_go() {
  command -v go >/dev/null 2>&1 || die "no Go toolchain on PATH: install Go 1.24 or newer (Debian: apt-get install golang-go; or https://go.dev/dl) and run again"
  local go_minor
  go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
  [ "${go_minor:-0}" -ge 24 ] || die "Go $(go env GOVERSION) is too old: install Go 1.24 or newer (Kubernetes $K8S_VERSION needs it)"
}
need_zstd() {
  command -v zstd >/dev/null 2>&1 || die "zstd is missing and the source archives are .tar.zst: install zstd (Debian: apt-get install zstd)"
}

reports_version() {  # $1 binary, $2 expected text, rest: arguments that print the version
  local b=$1 want=$2 said; shift 2
  [ -x "$b" ] || return 1
  said=$("$b" "$@" 2>&1) || return 1
  grep -qF -- "$want" <<<"$said"
}
ks_reports_version() {  # $1 binary: KubeSphere's commands read kubesphere.yaml from the working directory (or
  # /etc/kubesphere) before any subcommand runs, so `version` runs in an empty directory with an empty one
  local d rc=0
  [ -x "$1" ] || return 1
  d=$(mktemp -d)
  : > "$d/kubesphere.yaml"
  (cd "$d" && reports_version "$1" "\"gitVersion\":\"$KS_VERSION\"" version) || rc=1
  rm -rf "$d"
  return $rc
}
stamp_of() { echo "$(dirname "$1")/.$(basename "$1").stamp"; }
stamp_ok() { [ -x "$1" ] && [ -f "$(stamp_of "$1")" ] && [ "$(cat "$(stamp_of "$1")")" = "$2" ]; }

STEP=0 NSTEPS=${#SELECTED[@]}
step() { STEP=$((STEP + 1)); say "($STEP/$NSTEPS) $*"; }

record() {  # name version seconds bytes kind load (1-minute load average when the step started)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$@" >> "$TIMES"
}

go_build() {  # name version dir output hint -- go build arguments (after -trimpath -o)
  local name=$1 version=$2 dir=$3 out=$4 hint=$5 kind=first t0 secs bytes load
  shift 6
  if [ "$FORCE" = 1 ] && [ -e "$out" ]; then kind=forced
  elif [ -e "$out" ] || awk -F'\t' -v n="$name" -v v="$version" '$2 == n && $3 == v { f = 1 } END { exit !f }' "$TIMES" 2>/dev/null; then kind=rebuild
  fi
  say "    building $name $version${hint:+ ($hint)}"
  mkdir -p "$(dirname "$out")"
  load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo -)
  t0=$(date +%s)
  (cd "$dir" && go build -trimpath -o "$out.new" "$@") || die "$name build failed: see the compiler output above"
  mv -f "$out.new" "$out"
  secs=$(( $(date +%s) - t0 ))
  bytes=$(stat -c %s "$out")
  record "$name" "$version" "$secs" "$bytes" "$kind" "$load"
  say "    $name built in $(mins "$secs") ($((bytes / 1048576)) MiB)"
}

timed_prep() {  # name version -- command: a preparation step (module download, unpack), logged like a build
  local name=$1 version=$2 t0 secs load
  shift 3
  load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo -)
  t0=$(date +%s)
  "$@"
  secs=$(( $(date +%s) - t0 ))
  record "$name" "$version" "$secs" 0 prep "$load"
  say "    $name took $(mins "$secs")"
}

# --- Kubernetes -----------------------------------------------------------------------------------------------
K8S_READY=0 K8S_GOMOD= ETCD_VERSION= K8S_MINOR= K8S_STAGING=
k8s_versions() {  # learn the etcd version k8s.io/kubernetes requires (offline once the module is downloaded)
  [ -n "$ETCD_VERSION" ] && return 0
  need_go
  K8S_MINOR=$(echo "$K8S_VERSION" | sed -nE 's/^v1\.([0-9]+)\.([0-9]+)$/\1/p')
  [ -n "$K8S_MINOR" ] || die "KSLAB_K8S_VERSION must look like v1.34.3, not '$K8S_VERSION'"
  K8S_STAGING="v0.$K8S_MINOR.${K8S_VERSION##*.}"
  mkdir -p "$K8S_DIR/kubebin"
  K8S_GOMOD=$(cd "$K8S_DIR/kubebin" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" 2>/dev/null | sed -nE 's/^\s*"GoMod": "(.*)",?$/\1/p')
  [ -f "$K8S_GOMOD" ] || die "the Go module proxy did not serve k8s.io/kubernetes@$K8S_VERSION (check GOPROXY=$(go env GOPROXY) and the network)"
  ETCD_VERSION=$(sed -nE 's/^\s+go\.etcd\.io\/etcd\/server\/v3 (v[0-9.]+).*/\1/p' "$K8S_GOMOD" | head -n1)
  [ -n "$ETCD_VERSION" ] || die "could not read the etcd version that k8s.io/kubernetes@$K8S_VERSION requires"
}

K8S_TOOLS='//go:build tools

package kubebin

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)'

write_k8s_module() {
  local mod="$K8S_DIR/kubebin" k8s_go
  rm -f "$mod/go.mod" "$mod/go.sum" "$mod/.ready"
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
      while read -r m; do echo "	$m => $m $K8S_STAGING"; done
    echo ")"
  } > "$mod/go.mod"
  printf '%s\n' "$K8S_TOOLS" > "$mod/tools.go"
  (cd "$mod" && go mod tidy -e >/dev/null 2>"$K8S_DIR/tidy.log") || { tail -n 20 "$K8S_DIR/tidy.log" >&2; die "module resolution for Kubernetes failed (log: $K8S_DIR/tidy.log)"; }
  (cd "$mod" && go mod download) || die "module download for Kubernetes failed (check GOPROXY=$(go env GOPROXY) and the network)"
  touch "$mod/.ready"
}

k8s_module() {
  [ "$K8S_READY" = 1 ] && return 0
  k8s_versions
  local mod="$K8S_DIR/kubebin"
  if [ -f "$mod/.ready" ] && grep -qF "k8s.io/kubernetes $K8S_VERSION" "$mod/go.mod" &&
     [ "$(cat "$mod/tools.go" 2>/dev/null)" = "$K8S_TOOLS" ]; then
    :
  else
    say "    writing the Kubernetes wrapper module (staging modules pinned to $K8S_STAGING, etcd $ETCD_VERSION) and downloading modules"
    timed_prep kubernetes-modules "$K8S_VERSION" -- write_k8s_module
  fi
  K8S_READY=1
}

k8s_ldflags() {
  local build_date pkg flags="-s -w"
  build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags="$flags -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$K8S_MINOR"
    flags="$flags -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date -X $pkg.gitCommit=kslab"
  done
  echo "$flags"
}

build_etcd() {
  local out; out=$(bin_path etcd)
  k8s_versions
  if [ "$FORCE" = 0 ] && reports_version "$out" "${ETCD_VERSION#v}" --version; then
    step "etcd $ETCD_VERSION: cached"; return 0
  fi
  step "etcd $ETCD_VERSION"
  k8s_module
  go_build etcd "$ETCD_VERSION" "$K8S_DIR/kubebin" "$out" "" -- -ldflags "-s -w" go.etcd.io/etcd/server/v3
  reports_version "$out" "${ETCD_VERSION#v}" --version || die "the built etcd does not report ${ETCD_VERSION#v}"
}

build_k8s() {  # kube-apiserver | kube-controller-manager
  local name=$1 out hint
  out=$(bin_path "$name")
  if [ "$FORCE" = 0 ] && reports_version "$out" "Kubernetes $K8S_VERSION" --version; then
    step "$name $K8S_VERSION: cached"; return 0
  fi
  step "$name $K8S_VERSION"
  k8s_versions
  k8s_module
  case "$name" in
    kube-apiserver) hint="with a cold Go build cache: about 3 minutes on 2 idle cores" ;;
    kube-controller-manager) hint="with a cold Go build cache, after kube-apiserver: about 2 minutes on 2 idle cores" ;;
  esac
  go_build "$name" "$K8S_VERSION" "$K8S_DIR/kubebin" "$out" "$hint" -- -ldflags "$(k8s_ldflags)" "k8s.io/kubernetes/cmd/$name"
  reports_version "$out" "Kubernetes $K8S_VERSION" --version || die "the built $name does not report $K8S_VERSION"
}

# --- kubefed ------------------------------------------------------------------------------------------------
KUBEFED_GOMOD="module kslab.local/kubefedbin

go 1.24

require (
	github.com/json-iterator/go v1.1.12
	github.com/modern-go/reflect2 v1.0.2
	sigs.k8s.io/kubefed $KUBEFED_VERSION
)

// kubefed's own (only) replace line
replace github.com/googleapis/gnostic => github.com/googleapis/gnostic v0.4.1

tool sigs.k8s.io/kubefed/cmd/controller-manager"

write_kubefed_module() {
  local mod="$KUBEFED_DIR/kubefedbin"
  mkdir -p "$mod"
  rm -f "$mod/go.sum" "$mod/.ready" "$mod/.recipe"
  printf '%s\n' "$KUBEFED_GOMOD" > "$mod/go.mod"
  (cd "$mod" && go mod tidy >/dev/null 2>"$KUBEFED_DIR/tidy.log") || { tail -n 20 "$KUBEFED_DIR/tidy.log" >&2; die "module resolution for kubefed $KUBEFED_VERSION failed (log: $KUBEFED_DIR/tidy.log; the proxy must serve sigs.k8s.io/kubefed@$KUBEFED_VERSION)"; }
  (cd "$mod" && go mod download) || die "module download for kubefed failed (check GOPROXY=$(go env GOPROXY) and the network)"
  printf '%s\n' "$KUBEFED_GOMOD" > "$mod/.recipe"
  touch "$mod/.ready"
}

build_kubefed() {
  local out stamp v=sigs.k8s.io/kubefed/pkg/version
  out=$(bin_path kubefed-controller-manager)
  stamp="kubefed-controller-manager $KUBEFED_VERSION module=$(printf '%s\n' "$KUBEFED_GOMOD" | sha256sum | cut -c1-16)"
  if [ "$FORCE" = 0 ] && stamp_ok "$out" "$stamp" && reports_version "$out" "$KUBEFED_VERSION" --version; then
    step "kubefed-controller-manager $KUBEFED_VERSION: cached"; return 0
  fi
  step "kubefed-controller-manager $KUBEFED_VERSION"
  need_go
  if ! { [ -f "$KUBEFED_DIR/kubefedbin/.ready" ] && [ "$(cat "$KUBEFED_DIR/kubefedbin/.recipe" 2>/dev/null)" = "$KUBEFED_GOMOD" ]; }; then
    say "    writing the kubefed wrapper module and downloading modules"
    timed_prep kubefed-modules "$KUBEFED_VERSION" -- write_kubefed_module
  fi
  go_build kubefed-controller-manager "$KUBEFED_VERSION" "$KUBEFED_DIR/kubefedbin" "$out" "with a cold Go build cache: about 5 minutes on 2 cores" -- \
    -ldflags "-s -w -X $v.version=$KUBEFED_VERSION -X $v.gitTreeState=clean -X $v.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    sigs.k8s.io/kubefed/cmd/controller-manager
  reports_version "$out" "$KUBEFED_VERSION" --version || die "the built kubefed-controller-manager does not report $KUBEFED_VERSION on --version"
  echo "$stamp" > "$(stamp_of "$out")"
}

# --- kubefed's webhook, as the kubefed extension runs it: `hyperfed webhook` (the v4.1.3 set; change five) -------
KFW_ANCHOR='		CertDir: certDir,'
KFW_LINE='		MetricsBindAddress: os.Getenv("KUBEFED_WEBHOOK_METRICS_ADDR"), Host: os.Getenv("KUBEFED_WEBHOOK_HOST"), // kslab build-time patch'
# kubefed's wrapper module (above) for hyperfed, with the copy that has change five
KFW_GOMOD="$(printf '%s\n' "$KUBEFED_GOMOD" | sed -e 's#^module kslab.local/kubefedbin$#module kslab.local/hyperfedbin#' \
  -e 's#^tool sigs.k8s.io/kubefed/cmd/controller-manager$#tool sigs.k8s.io/kubefed/cmd/hyperfed#')

// the copy with change five (build-binaries.sh)
replace sigs.k8s.io/kubefed => ../hyperfed-src"
KFW_ID=$(printf '%s\n%s\n%s\n' "$KFW_ANCHOR" "$KFW_LINE" "$KFW_GOMOD" | sha256sum | cut -c1-16)

write_hyperfed_module() {
  local mod="$KUBEFED_DIR/hyperfedbin" src="$KUBEFED_DIR/hyperfed-src" dir
  mkdir -p "$mod"
  rm -f "$mod/go.sum" "$mod/.ready"
  dir=$(cd "$mod" && printf 'module tmp\n\ngo 1.24\n' > go.mod && go mod download -json "sigs.k8s.io/kubefed@$KUBEFED_VERSION" | sed -nE 's/^\s*"Dir": "(.*)",?$/\1/p')
  [ -d "$dir" ] || die "the Go module proxy did not serve sigs.k8s.io/kubefed@$KUBEFED_VERSION"
  rm -rf "$src" "$src.new"
  cp -r "$dir" "$src.new" && chmod -R u+w "$src.new"
  replace_one_line "$src.new/cmd/webhook/app/webhook.go" "$KFW_ANCHOR" "$KFW_ANCHOR
$KFW_LINE" "kubefed webhook listen-address patch"
  mv "$src.new" "$src"
  printf '%s\n' "$KFW_GOMOD" > "$mod/go.mod"
  (cd "$mod" && go mod tidy >/dev/null 2>"$KUBEFED_DIR/hyperfed-tidy.log") || { tail -n 20 "$KUBEFED_DIR/hyperfed-tidy.log" >&2; die "module resolution for hyperfed failed (log: $KUBEFED_DIR/hyperfed-tidy.log)"; }
  (cd "$mod" && go mod download) || die "module download for hyperfed failed (check GOPROXY=$(go env GOPROXY) and the network)"
  echo "$KFW_ID" > "$mod/.ready"
}

build_hyperfed() {
  local out stamp v=sigs.k8s.io/kubefed/pkg/version
  out=$(bin_path hyperfed)
  stamp="hyperfed $KUBEFED_VERSION patch=$KFW_ID"
  if [ "$FORCE" = 0 ] && stamp_ok "$out" "$stamp"; then
    step "hyperfed $KUBEFED_VERSION (kubefed's webhook): cached"; return 0
  fi
  step "hyperfed $KUBEFED_VERSION (kubefed's webhook)"
  need_go
  [ "$(cat "$KUBEFED_DIR/hyperfedbin/.ready" 2>/dev/null)" = "$KFW_ID" ] || timed_prep hyperfed-modules "$KUBEFED_VERSION" -- write_hyperfed_module
  go_build hyperfed "$KUBEFED_VERSION" "$KUBEFED_DIR/hyperfedbin" "$out" "with a cold Go build cache: about 2-3 minutes" -- \
    -ldflags "-s -w -X $v.version=$KUBEFED_VERSION -X $v.gitTreeState=clean" sigs.k8s.io/kubefed/cmd/hyperfed
  "$out" webhook --help >/dev/null 2>&1 || die "the built hyperfed does not start ('$out webhook --help' failed)"
  echo "$stamp" > "$(stamp_of "$out")"
}

# --- the kubefed extension's backend (the v4.1.3 set; change six) ----------------------------------------------
KFX_ANCHOR='		HealthProbeBindAddress:  ":8081",'
KFX_LINE='		MetricsBindAddress: os.Getenv("METRICS_BIND_ADDRESS"), // kslab build-time patch
		HealthProbeBindAddress:  os.Getenv("HEALTH_PROBE_BIND_ADDRESS"), // kslab build-time patch'
KFX_PATCH_SHA=$(printf '%s\n%s\n' "$KFX_ANCHOR" "$KFX_LINE" | sha256sum | cut -c1-16)

kfx_unpacked() {  # $1 archive
  local src="$KFX_DIR/src"
  say "    unpacking the kubefed extension $KFX_VERSION from $1 into $src and applying the listen-address patch"
  unpack_source "$1" "$src"
  [ -f "$src.new/go.mod" ] && [ -d "$src.new/vendor" ] && [ -f "$src.new/cmd/controller/main.go" ] \
    || die "$1 is not the kubefed extension's source tree with vendor/"
  grep -q '"os"' "$src.new/cmd/controller/main.go" || die "the kubefed extension patch no longer applies: cmd/controller/main.go does not import os"
  replace_one_line "$src.new/cmd/controller/main.go" "$KFX_ANCHOR" "$KFX_LINE" "kubefed extension listen-address patch"
  echo "$2" > "$src.new/.kslab-source"
  rm -rf "$src"
  mv "$src.new" "$src"
}

build_kfx() {
  local out stamp id archive="$SHARED_SRC/kubesphere-extensions-kubefed-$KFX_VERSION.tar.zst"
  out=$(bin_path kubefed-extension)
  [ -f "$archive" ] || die "no kubefed extension source at $archive (../shared/kubesphere-src)"
  id="$(source_identity "$archive" "$KFX_ARCHIVE_SHA256") patch=$KFX_PATCH_SHA"
  stamp="kubefed-extension $KFX_VERSION $id"
  if [ "$FORCE" = 0 ] && stamp_ok "$out" "$stamp"; then
    step "kubefed-extension $KFX_VERSION: cached"; return 0
  fi
  step "kubefed-extension $KFX_VERSION"
  need_go
  mkdir -p "$KFX_DIR"
  [ "$(cat "$KFX_DIR/src/.kslab-source" 2>/dev/null)" = "$id" ] || timed_prep kubefed-extension-unpack "$KFX_VERSION" -- kfx_unpacked "$archive" "$id"
  GOFLAGS=-mod=vendor GOPROXY=off go_build kubefed-extension "$KFX_VERSION" "$KFX_DIR/src" "$out" "with a cold Go build cache: about 1-2 minutes" -- \
    -ldflags "-s -w" ./cmd/controller
  echo "$stamp" > "$(stamp_of "$out")"
}

# --- sources from archives or checkouts (KubeSphere, tower) ---------------------------------------------------
source_identity() {  # $1 archive or directory, $2 expected sha256 of the default archive ("" = none known)
  local src=$1 sha
  if [ -d "$src" ]; then
    echo "dir:$(cd "$src" && pwd)@$(git -C "$src" rev-parse HEAD 2>/dev/null || echo unknown)"
  else
    sha=$(sha256sum "$src" | cut -d' ' -f1)
    if [ -n "$2" ] && [ "$sha" != "$2" ]; then
      die "$src has sha256 $sha, not $2 (the checksum in ../shared/kubesphere-src/README.md): restore the archive, or point KSLAB_KUBESPHERE_SRC/KSLAB_TOWER_SRC at another source"
    fi
    echo "sha256:$sha"
  fi
}

unpack_source() {  # $1 archive or directory, $2 destination (replaced)
  local src=$1 dest=$2
  rm -rf "$dest.new"
  mkdir -p "$dest.new"
  if [ -d "$src" ]; then
    tar -C "$src" --exclude=.git -cf - . | tar -C "$dest.new" -xf -
  else
    case "$src" in
      *.zst|*.zstd) need_zstd; tar --zstd -xf "$src" -C "$dest.new" ;;
      *) tar -xf "$src" -C "$dest.new" ;;
    esac || die "could not unpack $src"
  fi
  # archives made with one top folder (kubesphere-v4.1.3/...): lift its content
  local top
  top=$(find "$dest.new" -mindepth 1 -maxdepth 1)
  if [ "$(printf '%s\n' "$top" | wc -l)" = 1 ] && [ -d "$top" ] && [ ! -e "$dest.new/go.mod" ]; then
    mv "$top" "$dest.new.top" && rmdir "$dest.new" && mv "$dest.new.top" "$dest.new"
  fi
}

# --- KubeSphere -----------------------------------------------------------------------------------------------
KS_SRC= KS_ID=
ks_source() {
  [ -n "$KS_ID" ] && return 0
  local expect=""
  if [ -n "${KSLAB_KUBESPHERE_SRC:-}" ]; then
    KS_SRC=$KSLAB_KUBESPHERE_SRC
    [ -e "$KS_SRC" ] || die "KSLAB_KUBESPHERE_SRC=$KS_SRC does not exist: point KSLAB_KUBESPHERE_SRC at a KubeSphere $KS_VERSION checkout (git clone --branch $KS_VERSION https://github.com/kubesphere/kubesphere) or an archive of one"
    [ -f "$KS_SRC" ] && [ "$(basename "$KS_SRC")" = "kubesphere-$KS_VERSION-controlplane.tar.zst" ] && expect=$KS_ARCHIVE_SHA256
  else
    KS_SRC="$SHARED_SRC/kubesphere-$KS_VERSION-controlplane.tar.zst"
    [ -f "$KS_SRC" ] || die "no KubeSphere source at $KS_SRC: point KSLAB_KUBESPHERE_SRC at a KubeSphere $KS_VERSION checkout (git clone --branch $KS_VERSION https://github.com/kubesphere/kubesphere) or an archive of one"
    expect=$KS_ARCHIVE_SHA256
  fi
  local psha=$KS_PATCH_SHA
  [ "$KS_VERSION" = v4.1.3 ] && psha=$(printf '%s\n%s\n%s\n%s\n%s\n' "$KS41_PATCH_ANCHOR" "$KS41_PATCH_CALL" "$KS41_PATCH_FILE" "$KS_APISERVER_ANCHOR" "$KS_APISERVER_LINE" | sha256sum | cut -c1-16)
  KS_ID="$(source_identity "$KS_SRC" "$expect") patch=$psha"
}

ks_unpacked() {
  local src="$KS_DIR/src"
  say "    unpacking KubeSphere $KS_VERSION from $KS_SRC into $src and applying the listen-address patch"
  unpack_source "$KS_SRC" "$src"
  [ -f "$src.new/go.mod" ] && grep -q '^module kubesphere.io/kubesphere$' "$src.new/go.mod" && [ -d "$src.new/vendor" ] && [ -f "$src.new/pkg/version/version.go" ] \
    || die "$KS_SRC is not a KubeSphere source tree with vendor/: point KSLAB_KUBESPHERE_SRC at a KubeSphere $KS_VERSION checkout or archive"
  apply_ks_patch "$src.new"
  echo "$KS_ID" > "$src.new/.kslab-source"
  rm -rf "$src"
  mv "$src.new" "$src"
}

build_ks() {  # ks-controller-manager | ks-apiserver
  local name=$1 out stamp pkg hint v=kubesphere.io/kubesphere/pkg/version
  out=$(bin_path "$name")
  case "$name" in
    ks-controller-manager) pkg=./cmd/controller-manager; hint="with a cold Go build cache: 4-11 minutes on 2 cores, 1.5-2 GB of memory" ;;
    ks-apiserver) pkg=./cmd/ks-apiserver; hint="with a cold Go build cache, after ks-controller-manager: about 2 minutes" ;;
  esac
  ks_source
  stamp="$name $KS_VERSION $KS_ID"
  if [ "$FORCE" = 0 ] && stamp_ok "$out" "$stamp" && ks_reports_version "$out"; then
    step "$name $KS_VERSION: cached"; return 0
  fi
  step "$name $KS_VERSION"
  need_go
  mkdir -p "$KS_DIR"
  [ "$(cat "$KS_DIR/src/.kslab-source" 2>/dev/null)" = "$KS_ID" ] || timed_prep kubesphere-unpack "$KS_VERSION" -- ks_unpacked
  GOFLAGS=-mod=vendor go_build "$name" "$KS_VERSION" "$KS_DIR/src" "$out" "$hint" -- \
    -ldflags "-s -w -X $v.gitVersion=$KS_VERSION -X $v.gitCommit=$KS_COMMIT -X $v.gitTreeState=clean -X $v.gitMajor=$(echo "$KS_VERSION" | cut -d. -f1 | tr -d v) -X $v.gitMinor=$(echo "$KS_VERSION" | cut -d. -f2) -X $v.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    "$pkg"
  ks_reports_version "$out" || die "the built $name does not report $KS_VERSION ('$out version' in a directory with an empty kubesphere.yaml)"
  echo "$stamp" > "$(stamp_of "$out")"
}

# --- tower ----------------------------------------------------------------------------------------------------
TOWER_SRC= TOWER_ID=
tower_source() {
  [ -n "$TOWER_ID" ] && return 0
  local expect=""
  if [ -n "${KSLAB_TOWER_SRC:-}" ]; then
    TOWER_SRC=$KSLAB_TOWER_SRC
    [ -e "$TOWER_SRC" ] || die "KSLAB_TOWER_SRC=$TOWER_SRC does not exist: point KSLAB_TOWER_SRC at a tower $TOWER_VERSION checkout (git clone --branch $TOWER_VERSION https://github.com/kubesphere/tower) or an archive of one"
    [ -f "$TOWER_SRC" ] && [ "$(basename "$TOWER_SRC")" = "tower-$TOWER_VERSION.tar.zst" ] && expect=$TOWER_ARCHIVE_SHA256
  else
    TOWER_SRC="$SHARED_SRC/tower-$TOWER_VERSION.tar.zst"
    [ -f "$TOWER_SRC" ] || die "no tower source at $TOWER_SRC: point KSLAB_TOWER_SRC at a tower $TOWER_VERSION checkout (git clone --branch $TOWER_VERSION https://github.com/kubesphere/tower) or an archive of one"
    expect=$TOWER_ARCHIVE_SHA256
  fi
  TOWER_ID="$(source_identity "$TOWER_SRC" "$expect") reflect2=$REFLECT2 patch=$TOWER_PATCH_SHA"
}

tower_unpacked() {
  local src="$TOWER_DIR/src"
  say "    unpacking tower $TOWER_VERSION from $TOWER_SRC into $src, applying the bind-address patch; go get github.com/modern-go/reflect2@$REFLECT2"
  unpack_source "$TOWER_SRC" "$src"
  [ -f "$src.new/go.mod" ] && grep -q '^module kubesphere.io/tower$' "$src.new/go.mod" && [ -d "$src.new/cmd/proxy" ] \
    || die "$TOWER_SRC is not a tower source tree: point KSLAB_TOWER_SRC at a tower $TOWER_VERSION checkout or archive"
  rm -rf "$src.new/vendor"   # stale upstream; dependencies come from the module proxy
  apply_tower_patch "$src.new"
  (cd "$src.new" && GOFLAGS=-mod=mod go get "github.com/modern-go/reflect2@$REFLECT2" >/dev/null 2>"$TOWER_DIR/get.log") \
    || { tail -n 20 "$TOWER_DIR/get.log" >&2; die "go get github.com/modern-go/reflect2@$REFLECT2 for tower failed (log: $TOWER_DIR/get.log)"; }
  (cd "$src.new" && go mod download) || die "module download for tower failed (check GOPROXY=$(go env GOPROXY) and the network)"
  echo "$TOWER_ID" > "$src.new/.kslab-source"
  rm -rf "$src"
  mv "$src.new" "$src"
}

build_tower() {  # tower-proxy | tower-agent
  local name=$1 out stamp pkg
  out=$(bin_path "$name")
  pkg=./cmd/${name#tower-}
  tower_source
  stamp="$name $TOWER_VERSION $TOWER_ID"   # tower has no version output: the stamp is the only record
  if [ "$FORCE" = 0 ] && stamp_ok "$out" "$stamp"; then
    step "$name $TOWER_VERSION: cached"; return 0
  fi
  step "$name $TOWER_VERSION"
  need_go
  mkdir -p "$TOWER_DIR"
  [ "$(cat "$TOWER_DIR/src/.kslab-source" 2>/dev/null)" = "$TOWER_ID" ] || timed_prep tower-modules "$TOWER_VERSION" -- tower_unpacked
  go_build "$name" "$TOWER_VERSION" "$TOWER_DIR/src" "$out" "with a cold Go build cache: about 1 minute" -- -ldflags "-s -w" "$pkg"
  "$out" --help >/dev/null 2>&1 || die "the built $name does not start ('$out --help' failed)"
  echo "$stamp" > "$(stamp_of "$out")"
}

# --- helm, kubectl, kustomize (the v4.1.3 set) -----------------------------------------------------------------
build_helm() {
  local out v=helm.sh/helm/v3 mod="$HELM_DIR/helmbin"
  out=$(bin_path helm)
  if [ "$FORCE" = 0 ] && reports_version "$out" "Version:\"$HELM_VERSION\"" version; then
    step "helm $HELM_VERSION: cached"; return 0
  fi
  step "helm $HELM_VERSION"
  need_go
  if [ ! -f "$mod/.ready" ]; then
    say "    writing the helm wrapper module and downloading modules"
    timed_prep helm-modules "$HELM_VERSION" -- write_helm_module
  fi
  # the k8sVersion values are the ones helm's Makefile derives from its client-go (v0.31): without them
  # `helm template`'s default KubeVersion is 1.20
  go_build helm "$HELM_VERSION" "$mod" "$out" "with a cold Go build cache: about 2-4 minutes" -- \
    -ldflags "-s -w -X $v/internal/version.version=$HELM_VERSION -X $v/internal/version.gitTreeState=clean -X $v/pkg/chartutil.k8sVersionMajor=1 -X $v/pkg/chartutil.k8sVersionMinor=31 -X $v/pkg/lint/rules.k8sVersionMajor=1 -X $v/pkg/lint/rules.k8sVersionMinor=31" \
    helm.sh/helm/v3/cmd/helm
  reports_version "$out" "Version:\"$HELM_VERSION\"" version || die "the built helm does not report $HELM_VERSION on 'version'"
}

write_helm_module() {
  local mod="$HELM_DIR/helmbin"
  mkdir -p "$mod"
  rm -f "$mod/go.mod" "$mod/go.sum" "$mod/.ready"
  printf 'module kslab.local/helmbin\n\ngo 1.22\n\nrequire helm.sh/helm/v3 %s\n\ntool helm.sh/helm/v3/cmd/helm\n' "$HELM_VERSION" > "$mod/go.mod"
  (cd "$mod" && go mod tidy >/dev/null 2>"$HELM_DIR/tidy.log") || { tail -n 20 "$HELM_DIR/tidy.log" >&2; die "module resolution for helm $HELM_VERSION failed (log: $HELM_DIR/tidy.log)"; }
  (cd "$mod" && go mod download) || die "module download for helm failed (check GOPROXY=$(go env GOPROXY) and the network)"
  touch "$mod/.ready"
}

# kubectl at the lab's Kubernetes pin, from a sibling of the Kubernetes wrapper module (same replace lines)
write_kubectl_module() {
  local mod="$K8S_DIR/kubectlbin"
  mkdir -p "$mod"
  rm -f "$mod/go.sum" "$mod/.ready"
  sed -e 's#^module kslab.local/kubebin$#module kslab.local/kubectlbin#' -e '/go\.etcd\.io\/etcd\/server\/v3 /d' "$K8S_DIR/kubebin/go.mod" \
    | awk '/^require \(/ { print "require k8s.io/kubernetes '"$K8S_VERSION"'"; skip = 1; next } skip && /^\)/ { skip = 0; next } !skip' > "$mod/go.mod"
  printf '//go:build tools\n\npackage kubectlbin\n\nimport _ "k8s.io/kubernetes/cmd/kubectl"\n' > "$mod/tools.go"
  (cd "$mod" && go mod tidy -e >/dev/null 2>"$K8S_DIR/kubectl-tidy.log") || { tail -n 20 "$K8S_DIR/kubectl-tidy.log" >&2; die "module resolution for kubectl failed (log: $K8S_DIR/kubectl-tidy.log)"; }
  (cd "$mod" && go mod download) || die "module download for kubectl failed (check GOPROXY=$(go env GOPROXY) and the network)"
  touch "$mod/.ready"
}

build_kubectl() {
  local out; out=$(bin_path kubectl)
  if [ "$FORCE" = 0 ] && reports_version "$out" "Client Version: $K8S_VERSION" version --client; then
    step "kubectl $K8S_VERSION: cached"; return 0
  fi
  step "kubectl $K8S_VERSION"
  k8s_versions
  k8s_module
  if ! { [ -f "$K8S_DIR/kubectlbin/.ready" ] && grep -qF "k8s.io/kubernetes $K8S_VERSION" "$K8S_DIR/kubectlbin/go.mod"; }; then
    say "    writing the kubectl wrapper module and downloading modules"
    timed_prep kubectl-modules "$K8S_VERSION" -- write_kubectl_module
  fi
  go_build kubectl "$K8S_VERSION" "$K8S_DIR/kubectlbin" "$out" "with a warm Kubernetes build cache: about 1-2 minutes" -- \
    -ldflags "$(k8s_ldflags)" k8s.io/kubernetes/cmd/kubectl
  reports_version "$out" "Client Version: $K8S_VERSION" version --client || die "the built kubectl does not report $K8S_VERSION"
}

KUSTOMIZE_SHIM='#!/bin/sh
# kslab: `kustomize build DIR` as helm post-renderers call it, served by the kubectl next to this file
[ "$1" = build ] && shift
exec "$(dirname "$0")/kubectl" kustomize "${@:-.}"'

build_kustomize() {
  local out; out=$(bin_path kustomize)
  if [ "$FORCE" = 0 ] && [ -x "$out" ] && [ "$(cat "$out")" = "$KUSTOMIZE_SHIM" ]; then
    step "kustomize (shim over kubectl kustomize): cached"; return 0
  fi
  step "kustomize (shim over kubectl kustomize)"
  mkdir -p "$(dirname "$out")"
  printf '%s\n' "$KUSTOMIZE_SHIM" > "$out.new" && chmod 755 "$out.new" && mv -f "$out.new" "$out"
}

# --- main -----------------------------------------------------------------------------------------------------
if [ "$LIST" = 1 ]; then
  for name in "${SELECTED[@]}"; do
    out=$(bin_path "$name"); printf '%-28s %s%s\n' "$name" "$out" "$([ -x "$out" ] || echo '  (missing)')"
  done
  exit 0
fi

# Nothing is written (not even the cache folder) when a binary must be built and there is no Go to build it.
for name in "${SELECTED[@]}"; do
  { [ "$FORCE" = 1 ] || [ ! -x "$(bin_path "$name")" ]; } && { need_go; break; }
done

mkdir -p "$ROOT"
exec 9>"$ROOT/.build.lock"
if ! flock -n 9; then
  say "another build-binaries.sh is writing $ROOT: waiting for it"
  flock 9
fi
[ -f "$TIMES" ] || printf 'finished_utc\tname\tversion\tseconds\tbytes\tkind\tload\n' > "$TIMES"

T_START=$(date +%s)
say "cache $ROOT; building ${SELECTED[*]}$([ "$FORCE" = 1 ] && echo ' (forced)')"
for name in "${SELECTED[@]}"; do
  case "$name" in
    etcd) build_etcd ;;
    kube-apiserver|kube-controller-manager) build_k8s "$name" ;;
    kubefed-controller-manager) build_kubefed ;;
    hyperfed) build_hyperfed ;;
    kubefed-extension) build_kfx ;;
    ks-controller-manager|ks-apiserver) build_ks "$name" ;;
    tower-proxy|tower-agent) build_tower "$name" ;;
    helm) build_helm ;;
    kubectl) build_kubectl ;;
    kustomize) build_kustomize ;;
  esac
done
if [ "$KS_VERSION" = v3.4.1 ]; then
  say "done in $(mins $(( $(date +%s) - T_START ))): $K8S_DIR/bin $KUBEFED_DIR/bin $KS_DIR/bin $TOWER_DIR/bin"
else
  say "done in $(mins $(( $(date +%s) - T_START ))): $K8S_DIR/bin $KS_DIR/bin $HELM_DIR/bin $KUBEFED_DIR/bin $KFX_DIR/bin $TOWER_DIR/bin"
fi
