"""Whether a download's hosts can be reached, asked before tensorflow-datasets downloads."""

import socket

from tf_lvae.data.network import unreachable


def test_each_host_is_asked_once_through_the_proxy_the_environment_sets(monkeypatch):
    asked = []

    class Connection:
        def close(self):
            pass

    def connect(address, timeout):
        asked.append(address)
        if address[0] == "down.example":
            raise socket.gaierror(-2, "Name or service not known")
        return Connection()

    monkeypatch.setattr(socket, "create_connection", connect)
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    urls = ["https://a.example/x.zip", "https://a.example/y.zip", "http://b.example:8080/z"]
    assert unreachable(urls) is None
    assert asked == [("a.example", 443), ("b.example", 8080)]
    assert unreachable(["http://down.example/x"]) == (
        "down.example:80 cannot be reached ([Errno -2] Name or service not known)"
    )
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    asked.clear()
    assert unreachable(urls[:1]) is None and asked == [("proxy.example", 3128)]
