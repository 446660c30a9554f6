"""Command line: kslab up|down|status|kubeconfig NAME."""

import argparse
import sys

from . import lab


def main(argv=None):
    p = argparse.ArgumentParser(prog="kslab", description="A lab of real kube-apiservers and KubeSphere 3.4.1 control planes on 127.0.0.1.")
    sub = p.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("up", help="start the lab (or reuse a running one)")
    u.add_argument("--members", type=int, default=2, help="number of member clusters (default 2)")
    u.add_argument("--clusters", help="comma-separated cluster names, the first is the host (overrides --members)")
    u.add_argument("--not-installed", default="", help="comma-separated clusters created without KubeSphere")
    u.add_argument("--crds", help="folder of CRD YAML files (default: $KSLAB_CRDS_DIR or <repo>/../shared/kubesphere-crds)")
    u.add_argument("--timeout", type=int, default=180, help="seconds to wait for each API server")
    u.add_argument("--kubesphere", default="v3.4.1", choices=("v3.4.1", "v4.1.3"),
                   help="KubeSphere version of the lab (default v3.4.1; v4.1.3: helm-installed ks-core on the host, "
                        "bare members; binaries: tests/lab/build-binaries.sh --kubesphere v4.1.3)")
    sub.add_parser("down", help="stop the lab's processes and remove its state")
    sub.add_parser("status", help="show each cluster, its port and health")
    k = sub.add_parser("kubeconfig", help="print the path of a cluster's admin kubeconfig")
    k.add_argument("name")
    sub.add_parser("state-dir", help="print the lab's state folder")
    args = p.parse_args(argv)
    try:
        if args.cmd == "up":
            if args.members < 0:
                raise lab.LabError("--members must be 0 or more")
            names = [n.strip() for n in args.clusters.split(",") if n.strip()] if args.clusters else lab.cluster_names(args.members)
            if len(set(names)) != len(names):
                raise lab.LabError("cluster names repeat: %s" % ", ".join(names))
            not_installed = [n.strip() for n in args.not_installed.split(",") if n.strip()]
            state = lab.up(names, not_installed, args.crds, args.timeout, kubesphere=args.kubesphere)
            print("\n".join(lab.status()))
            print("kubeconfigs: %s/<cluster>/kubeconfig   inventory: %s/inventory.yml" % (state["state_dir"], state["state_dir"]))
            print("stop it with: tests/lab/kslab down")
        elif args.cmd == "down":
            lab.down()
        elif args.cmd == "status":
            print("\n".join(lab.status()))
        elif args.cmd == "kubeconfig":
            print(lab.kubeconfig_path(args.name))
        elif args.cmd == "state-dir":
            print(lab.state_dir())
    except lab.LabError as e:
        print("kslab: %s" % e, file=sys.stderr)
        return 2
    except RuntimeError as e:
        print("kslab: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
