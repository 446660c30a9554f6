# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. Pure builders, parsers and comparers of Kubernetes and KubeSphere objects (no I/O;
the one exception is kubeconfig.py, which reads the files a kubeconfig path names)."""
