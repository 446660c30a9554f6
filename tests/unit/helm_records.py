"""Helm 3 release records as the API server stores them (a Secret of type helm.sh/release.v1 whose
`data.release` is base64 of base64(gzip(release JSON))), for the read model's and detection's unit tests."""

import base64
import gzip
import json


def record(app_version, revision=1, status="deployed", chart="ks-core", chart_version="1.1.4", name="ks-core",
           compress=True, values=None, chart_values=None):
    release = {"name": name, "namespace": "kubesphere-system", "version": revision,
               "info": {"status": status, "description": "Install complete"},
               "chart": {"metadata": {"name": chart, "version": chart_version, "appVersion": app_version},
                         "values": chart_values or {}},
               "config": values or {}, "manifest": "kind: ConfigMap\n"}
    payload = json.dumps(release).encode()
    if compress:
        payload = gzip.compress(payload)
    helm_encoded = base64.b64encode(payload)
    return {"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
            "metadata": {"name": "sh.helm.release.v1.%s.v%d" % (name, revision), "namespace": "kubesphere-system",
                         "labels": {"owner": "helm", "name": name, "status": status, "version": str(revision)}},
            "data": {"release": base64.b64encode(helm_encoded).decode()}}
