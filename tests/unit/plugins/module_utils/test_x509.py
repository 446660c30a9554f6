"""The notAfter of a PEM certificate, read without a crypto library (pure)."""

import datetime

import pytest

from cluster_fixtures import make_cert

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import x509


def test_certificate_not_after_reads_generalized_time_beyond_2049():
    assert x509.certificate_not_after(make_cert(datetime.datetime(2051, 1, 2, 3, 4, 5))).year == 2051
    with pytest.raises(ValueError):
        x509.certificate_not_after(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
    with pytest.raises(ValueError, match="no PEM"):
        x509.certificate_not_after("junk")
