"""kslab: a lab of real kube-apiservers for kubesphere.multicluster's tests (test equipment)."""
