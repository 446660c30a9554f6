"""Per-cluster PKI for the lab: a CA, the API server's serving certificate, an admin client
certificate (system:masters) and the service-account signing key pair. Test equipment only."""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key):
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _name(common_name, org=None):
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _write(path, data, private=False):
    with open(path, "wb") as f:
        f.write(data)
    if private:
        os.chmod(path, 0o600)


def _sign(subject_key, subject, issuer_key, issuer, days, ca=False, server_names=(), client=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        usages = [x509.ExtendedKeyUsageOID.CLIENT_AUTH] if client else [x509.ExtendedKeyUsageOID.SERVER_AUTH]
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if server_names:
        alt = []
        for n in server_names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                alt.append(x509.DNSName(n))
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_cluster_pki(directory, cluster, days=365, server_names=("127.0.0.1", "localhost")):
    """Write ca.crt/key, apiserver.crt/key, admin.crt/key, sa.key/sa.pub into `directory`.
    Idempotent: an existing CA is kept."""
    os.makedirs(directory, exist_ok=True)
    p = lambda n: os.path.join(directory, n)  # noqa: E731
    if os.path.exists(p("admin.crt")):
        return
    ca_key = _key()
    ca_name = _name("kslab-%s-ca" % cluster)
    ca = _sign(ca_key, ca_name, ca_key, ca_name, days * 10, ca=True)
    _write(p("ca.key"), _pem_key(ca_key), private=True)
    _write(p("ca.crt"), ca.public_bytes(serialization.Encoding.PEM))

    srv_key = _key()
    names = tuple(server_names) + ("kubernetes", "kubernetes.default", "kubernetes.default.svc")
    srv = _sign(srv_key, _name("kube-apiserver"), ca_key, ca_name, days, server_names=names)
    _write(p("apiserver.key"), _pem_key(srv_key), private=True)
    _write(p("apiserver.crt"), srv.public_bytes(serialization.Encoding.PEM))

    adm_key = _key()
    adm = _sign(adm_key, _name("kslab-admin", "system:masters"), ca_key, ca_name, days, client=True)
    _write(p("admin.key"), _pem_key(adm_key), private=True)
    _write(p("admin.crt"), adm.public_bytes(serialization.Encoding.PEM))

    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write(p("sa.key"), _pem_key(sa_key), private=True)
    _write(
        p("sa.pub"),
        sa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
    )


def _load_ca(directory):
    from cryptography.hazmat.primitives.serialization import load_pem_private_key  # noqa: PLC0415

    with open(os.path.join(directory, "ca.key"), "rb") as f:
        key = load_pem_private_key(f.read(), None)
    with open(os.path.join(directory, "ca.crt"), "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    return key, cert


def make_client_cert(directory, cn, org="system:masters", days=365):
    """A client certificate signed by the cluster CA in `directory`: (cert PEM, key PEM) bytes. The lab's
    own components get one each (CN kslab:<component>), so the audit log tells them from the collection."""
    ca_key, ca = _load_ca(directory)
    key = _key()
    cert = _sign(key, _name(cn, org), ca_key, ca.subject, days, client=True)
    return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


def make_ca(directory, cn, days=3650):
    """A CA (ca.crt/ca.key) in `directory`, kept if it exists (the lab CA for webhooks and tower; RSA,
    because tower's proxy signs with an RSA CA key only)."""
    os.makedirs(directory, exist_ok=True)
    if os.path.exists(os.path.join(directory, "ca.crt")):
        return
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = _name(cn)
    cert = _sign(key, name, key, name, days, ca=True)
    _write(os.path.join(directory, "ca.key"), _pem_key(key), private=True)
    _write(os.path.join(directory, "ca.crt"), cert.public_bytes(serialization.Encoding.PEM))


def make_serving_cert(ca_dir, out_dir, cn, names=("127.0.0.1", "localhost"), days=365):
    """tls.crt/tls.key in `out_dir`, for `names`, signed by the CA in `ca_dir` (kept if present)."""
    os.makedirs(out_dir, exist_ok=True)
    if os.path.exists(os.path.join(out_dir, "tls.crt")):
        return
    ca_key, ca = _load_ca(ca_dir)
    key = _key()
    cert = _sign(key, _name(cn), ca_key, ca.subject, days, server_names=names)
    _write(os.path.join(out_dir, "tls.key"), _pem_key(key), private=True)
    _write(os.path.join(out_dir, "tls.crt"), cert.public_bytes(serialization.Encoding.PEM))
