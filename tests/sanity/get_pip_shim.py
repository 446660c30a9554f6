# Offline stand-in for the get-pip bootstrap script that ansible-test downloads from a host this
# machine cannot reach. tests/run-all.sh copies it to ~/.ansible/test/cache/get_pip_<version>.py.
# It takes pip from the interpreter's ensurepip (in a subprocess: in-process ensurepip would set
# PIP_CONFIG_FILE=/dev/null and pip would then lose the machine's CA settings), then installs the
# pip version ansible-test asked for from the package index.
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--upgrade", "--force-reinstall"] + args))
