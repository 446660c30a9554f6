"""Kubernetes resource quantities read as exact values (pure)."""

from fractions import Fraction

import pytest

from ansible_collections.kubesphere.multicluster.plugins.module_utils.objects import quantity as q


@pytest.mark.parametrize("text,value", [
    ("1", 1), ("0", 0), ("-1", -1), ("+2", 2),
    ("0.5", Fraction(1, 2)), (".5", Fraction(1, 2)), ("5.", 5), ("1.250", Fraction(5, 4)),
    ("500m", Fraction(1, 2)), ("1000m", 1), ("250u", Fraction(1, 4000)), ("3n", Fraction(3, 10 ** 9)),
    ("1k", 1000), ("2M", 2 * 10 ** 6), ("1G", 10 ** 9), ("1T", 10 ** 12), ("1P", 10 ** 15), ("1E", 10 ** 18),
    ("1Ki", 1024), ("1Mi", 1024 ** 2), ("1Gi", 1024 ** 3), ("1.5Gi", 3 * 2 ** 29), ("1Ti", 2 ** 40),
    ("1Pi", 2 ** 50), ("1Ei", 2 ** 60),
    ("1e3", 1000), ("1E3", 1000), ("5e-1", Fraction(1, 2)), ("1.5e+2", 150), ("12E-3", Fraction(12, 1000)),
])
def test_parse_every_form(text, value):
    assert q.parse(text) == value


@pytest.mark.parametrize("number,value", [(1, 1), (0, 0), (0.5, Fraction(1, 2)), (0.1, Fraction(1, 10)),
                                          (2.0, 2), (1e3, 1000)])
def test_yaml_numbers_are_quantities(number, value):
    assert q.parse(number) == value


@pytest.mark.parametrize("bad", ["", " 1", "1 ", "1Kb", "1KI", "1ki", "Mi", "m", "1e", "1e1.5", "1.2.3", "0x10",
                                 "1Gi1", "--1", "1,5", "abc", True, False, None, [], {}, float("nan"),
                                 float("inf")])
def test_what_is_not_a_quantity(bad):
    with pytest.raises(q.QuantityError):
        q.parse(bad)
    assert q.try_parse(bad) is None


@pytest.mark.parametrize("a,b", [
    ("0.5", "500m"), (0.5, "500m"), ("1", "1000m"), (1, "1"), ("1024Mi", "1Gi"), ("1e3", "1k"),
    ("1G", "1000M"), ("0.1", "100m"), ("2Gi", 2147483648), ("1.5Gi", "1536Mi"), ("0", "0m"),
])
def test_equal_by_value_whatever_the_form(a, b):
    first, second = b, a
    assert q.equal(a, b) and q.equal(first, second)


@pytest.mark.parametrize("a,b", [("1G", "1Gi"), ("1k", "1Ki"), ("500m", "0.05"), ("1", "abc"), ("x", "x"),
                                 (True, 1)])
def test_different_values_or_non_quantities_are_not_equal(a, b):
    assert not q.equal(a, b)


@pytest.mark.parametrize("pointer,kind", [
    ("/spec/template/spec/containers/0/resources/requests/cpu", "Deployment"),
    ("/spec/template/spec/initContainers/1/resources/limits/memory", "StatefulSet"),
    ("/spec/template/spec/containers/0/resources/limits/nvidia.com~1gpu", "Deployment"),
    ("/spec/template/spec/resources/requests/cpu", "Deployment"),
    ("/spec/template/spec/overhead/cpu", "Deployment"),
    ("/spec/template/spec/volumes/0/emptyDir/sizeLimit", "Deployment"),
    ("/spec/volumeClaimTemplates/0/spec/resources/requests/storage", "StatefulSet"),
    ("/spec/resources/requests/storage", "PersistentVolumeClaim"),
    ("/spec/hard/requests.cpu", "ResourceQuota"),
    ("/spec/capacity/storage", "PersistentVolume"),
    ("/spec/limits/0/defaultRequest/memory", "LimitRange"),
    ("/spec/limits/0/maxLimitRequestRatio/cpu", "LimitRange"),
])
def test_quantity_fields(pointer, kind):
    assert q.is_quantity_path(pointer, kind)


@pytest.mark.parametrize("pointer,kind", [
    ("/spec/replicas", "Deployment"),
    ("/spec/template/spec/containers/0/image", "Deployment"),
    ("/spec/template/spec/containers/0/resources/requests", "Deployment"),   # the map itself
    ("/spec/ports/0/port", "Service"),
    ("/data/cpu", "ConfigMap"),
    ("/spec/hard/cpu", "Deployment"),
    ("/spec/capacity/storage", "StatefulSet"),
    ("/spec/limits/0/max/cpu", "Deployment"),
    ("", "Deployment"),
])
def test_other_fields_are_not_quantities(pointer, kind):
    assert not q.is_quantity_path(pointer, kind)
