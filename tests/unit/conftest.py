"""Unit tests import the one fake connection as `fakes` (tests/unit/fakes.py), and Cluster objects,
conditions and kubeconfigs as `cluster_fixtures` (tests/unit/cluster_fixtures.py)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
