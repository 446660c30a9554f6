# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster. X.509 certificates as kubeconfigs carry them: the notAfter of a PEM
certificate, read with a small DER/ASN.1 reader so that no crypto library is needed. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import datetime
import re


def certificate_not_after(pem):
    """The notAfter of the first certificate in `pem` (bytes or text) as an aware UTC datetime.
    A small DER reader (tbsCertificate -> validity), so no crypto library is needed.
    Raises ValueError when there is no readable certificate."""
    if isinstance(pem, bytes):
        pem = pem.decode("ascii", "replace")
    match = re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem or "", re.S)
    if not match:
        raise ValueError("no PEM certificate found")
    try:
        der = base64.b64decode("".join(match.group(1).split()))
    except (binascii.Error, ValueError):
        raise ValueError("the PEM certificate is not base64")
    try:
        cert = _der(der, 0)[0]
        tbs = _der(cert["value"], 0)[0]
        item, pos = _der(tbs["value"], 0)
        if item["tag"] == 0xA0:  # [0] version
            item, pos = _der(tbs["value"], pos)
        for dummy in range(3):  # after serialNumber: signature, issuer, validity
            item, pos = _der(tbs["value"], pos)
        validity = item
        vpos = _der(validity["value"], 0)[1]  # skip notBefore
        return _asn1_time(_der(validity["value"], vpos)[0])
    except (IndexError, KeyError, ValueError) as e:
        raise ValueError("the certificate cannot be read: %s" % e)


def _der(data, pos):
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if not count or count > 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(bytes(data[pos:pos + count]), "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return {"tag": tag, "value": data[pos:pos + length]}, pos + length


def _asn1_time(item):
    text = bytes(item["value"]).decode("ascii")
    if item["tag"] == 0x17:  # UTCTime YYMMDDHHMMSSZ
        parsed = datetime.datetime.strptime(text, "%y%m%d%H%M%SZ")
    elif item["tag"] == 0x18:  # GeneralizedTime YYYYMMDDHHMMSSZ
        parsed = datetime.datetime.strptime(text, "%Y%m%d%H%M%SZ")
    else:
        raise ValueError("validity is not a time")
    return parsed.replace(tzinfo=datetime.timezone.utc)
