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

from .installer import CC_BASE, InstallerController
from .runtime import Lab, Wakeup, run_forever


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
    parser.add_argument("--kubesphere", default="v3.4.1", choices=("v3.4.1", "v4.1.3"),
                        help="v4.1.3: no installer stand-in; kslabkit/v41supervisor.py (pod player, KubeSphere v4.1.3)")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.kubesphere == "v4.1.3":
        from kslabkit.v41supervisor import Supervisor41  # noqa: PLC0415

        supervisor = Supervisor41(args.state)
    else:
        supervisor = Supervisor(args.state)

    def _exit(signum, _frame):
        logging.getLogger("kslab.supervisor").info("signal %d: stopping every process", signum)
        supervisor.stop_all()
        sys.exit(0)

    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)
    if args.kubesphere == "v4.1.3":
        controllers = [supervisor]
        logging.getLogger("kslab.supervisor").info("lab %s (KubeSphere v4.1.3): %s", ", ".join(supervisor.names),
                                                   supervisor.name)
        run_forever(controllers, args.interval)
        return
    lab = Lab(args.state, component="ks-installer")
    controllers = [InstallerController(lab), _Every(supervisor, 2.0)]
    logging.getLogger("kslab.supervisor").info("lab %s: %s", ", ".join(lab.names),
                                               ", ".join(c.name for c in controllers))
    # what the installer and the supervisor act on, watched: an idle lab then polls nothing (runtime.run_forever)
    watches = [(n, path) for n in lab.names for path in Supervisor.WATCHED]
    watches += [(n, CC_BASE) for n in lab.names]
    run_forever(controllers, args.interval, wakeup=Wakeup(supervisor.rest, watches), pending=(supervisor.needs_pass,))


if __name__ == "__main__":
    main()
