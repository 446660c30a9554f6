"""The lab's CONNECT proxy: the only way traffic for a made-up address (a Pod IP, a ClusterIP, a load
balancer IP) reaches anything. It maps such an address to a port on 127.0.0.1 and REFUSES every target it
does not map, so no process of the lab ever dials a made-up address for real.

Two kinds of listener, one table each:
- a Unix socket per cluster, that cluster's kube-apiserver `--egress-selector-config-file` `cluster` egress
  (service proxy to the ks-apiserver Endpoints, webhooks called by URL);
- a TCP port on 127.0.0.1, HTTPS_PROXY of the host-side KubeSphere binaries (tower's `mc-<name>` ClusterIPs).

Tables are updated in place by the supervisor (`Table.set`). Runs in threads of the supervisor process."""

import logging
import os
import socket
import threading

log = logging.getLogger("kslab.connect")


class Table:
    """(host, port) -> local port on 127.0.0.1; plus a set of 127.0.0.1 ports that may be reached as is."""

    def __init__(self, name, local_ports=()):
        self.name = name
        self._lock = threading.Lock()
        self._map = {}
        self.local_ports = set(local_ports)

    def set(self, mapping):
        with self._lock:
            self._map = dict(mapping)

    def resolve(self, host, port):
        with self._lock:
            if (host, port) in self._map:
                return self._map[(host, port)]
        if host in ("127.0.0.1", "localhost") and port in self.local_ports:
            return port
        return None

    def items(self):
        with self._lock:
            return dict(self._map)


def _pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (dst,):
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass


def _read_head(conn):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(4096)
        if not chunk:
            return None, b""
        buf += chunk
        if len(buf) > 65536:
            return None, b""
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def _handle(conn, table):
    upstream = None
    try:
        head, rest = _read_head(conn)
        if not head:
            return
        parts = head.split("\r\n", 1)[0].split()
        if len(parts) < 2 or parts[0].upper() != "CONNECT":
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        target = parts[1]
        host, _, port = target.rpartition(":")
        host = host.strip("[]")
        try:
            port = int(port)
        except ValueError:
            port = -1
        local = table.resolve(host, port)
        if local is None:
            log.warning("%s: refused CONNECT %s (not a lab address)", table.name, target)
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", local), timeout=10)
            upstream.settimeout(None)
        except OSError as e:
            log.info("%s: CONNECT %s -> 127.0.0.1:%d failed: %s", table.name, target, local, e)
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if rest:
            upstream.sendall(rest)
        t = threading.Thread(target=_pipe, args=(upstream, conn), daemon=True)
        t.start()
        _pipe(conn, upstream)
        t.join()
    except OSError:
        pass
    finally:
        for s in (conn, upstream):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass


def _serve(sock, table):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=_handle, args=(conn, table), daemon=True).start()


def serve_unix(path, table):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    os.chmod(path, 0o600)
    s.listen(64)
    threading.Thread(target=_serve, args=(s, table), daemon=True, name="connect-" + table.name).start()
    return s


def serve_tcp(port, table):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    threading.Thread(target=_serve, args=(s, table), daemon=True, name="connect-" + table.name).start()
    return s
