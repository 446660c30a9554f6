"""python -m standins --state DIR [--interval SECONDS]: run KubeSphere's stand-in controllers for a kslab.

Started in the background by `kslab up` (PYTHONPATH=tests/lab) and stopped by `kslab down`."""

import argparse
import logging
import sys

from .clusters import ClusterController
from .installer import InstallerController
from .runtime import Lab, run_forever
from .tower import TowerController

try:
    from .kubefed import KubefedController
except ImportError:  # written separately; the other stand-ins work without it
    KubefedController = None


def main(argv=None):
    parser = argparse.ArgumentParser(prog="standins", description=__doc__.splitlines()[0])
    parser.add_argument("--state", required=True, help="the lab's state folder (holds lab.json)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between reconcile passes")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    lab = Lab(args.state)
    controllers = [InstallerController(lab), ClusterController(lab), TowerController(lab)]
    if KubefedController is not None:
        controllers.append(KubefedController(lab))
    else:
        logging.getLogger("standins").warning("standins/kubefed.py not found: running without the kubefed stand-in")
    logging.getLogger("standins").info("stand-ins for %s: %s", ", ".join(lab.names),
                                       ", ".join(c.name for c in controllers))
    run_forever(controllers, args.interval)


if __name__ == "__main__":
    main()
