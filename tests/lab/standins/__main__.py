"""python -m standins --state DIR [--interval SECONDS]: the lab's supervisor process.

Started in the background by `kslab up` (PYTHONPATH=tests/lab) and stopped by `kslab down`. It runs, in one
loop: the ks-installer stand-in (standins/installer.py: the only KubeSphere part the lab still imitates,
as user kslab:ks-installer) and the supervisor (kslabkit/supervisor.py, user kslab:supervisor) with its
CONNECT proxy threads, which runs KubeSphere's real binaries as the installer's rendering asks."""

import argparse
import logging
import signal
import sys
import time

from kslabkit.supervisor import Supervisor

from .installer import InstallerController
from .runtime import Lab, run_forever


class _Every:
    """Runs a controller's step() at most every `seconds`."""

    def __init__(self, controller, seconds):
        self.c, self.seconds, self.last = controller, seconds, 0.0
        self.name = controller.name

    def step(self):
        if time.time() - self.last >= self.seconds:
            self.last = time.time()
            self.c.step()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="standins", description=__doc__.splitlines()[0])
    parser.add_argument("--state", required=True, help="the lab's state folder (holds lab.json)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between reconcile passes")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    supervisor = Supervisor(args.state)

    def _exit(signum, _frame):
        logging.getLogger("kslab.supervisor").info("signal %d: stopping every process", signum)
        supervisor.stop_all()
        sys.exit(0)

    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)
    lab = Lab(args.state, component="ks-installer")
    controllers = [InstallerController(lab), _Every(supervisor, 2.0)]
    logging.getLogger("kslab.supervisor").info("lab %s: %s", ", ".join(lab.names),
                                               ", ".join(c.name for c in controllers))
    run_forever(controllers, args.interval)


if __name__ == "__main__":
    main()
