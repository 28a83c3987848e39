"""Whether this machine can reach the hosts of a download, asked before tensorflow-datasets
downloads: its requests retry a host that cannot be reached for minutes, without a word."""

from __future__ import annotations

import socket
import urllib.parse
import urllib.request
from collections.abc import Iterable

CONNECT_TIMEOUT = 5.0  # s to open a connection to one host


def _address(url: str) -> tuple[str, int]:
    """The host and port a request for `url` connects to: its own, or the proxy's that the
    environment sets for its scheme (as requests uses)."""
    parts = urllib.parse.urlsplit(url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def unreachable(urls: Iterable[str], timeout: float = CONNECT_TIMEOUT) -> str | None:
    """Says which host of `urls` (or its proxy) no connection reaches within `timeout`
    seconds, and why ("github.com:443 cannot be reached ([Errno -2] Name or service not
    known)"); None when every one answers."""
    for host, port in dict.fromkeys(_address(url) for url in urls):
        try:
            socket.create_connection((host, port), timeout=timeout).close()
        except OSError as err:
            return f"{host}:{port} cannot be reached ({err})"
    return None
