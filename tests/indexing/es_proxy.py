"""A test-only loopback proxy that lets the official elasticsearch client 8/9 talk to an OpenSearch node.

The client refuses servers that do not answer `X-Elastic-Product: Elasticsearch`, and OpenSearch answers 406
to its `application/vnd.elasticsearch+json; compatible-with=N` media types: the proxy rewrites those to the
plain JSON types and adds the header. Everything else passes through unchanged.
"""

import http.client
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VENDOR_TYPE = re.compile(r"application/vnd\.elasticsearch\+([\w-]+)(\s*;\s*compatible-with=\d+)?")


def _plain(value: str) -> str:
    return VENDOR_TYPE.sub(lambda m: f"application/{m.group(1)}", value)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream: tuple[str, int]

    def log_message(self, *args) -> None:
        pass

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {
            key: _plain(value)
            for key, value in self.headers.items()
            if key.lower() not in ("host", "connection", "content-length")
        }
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        finally:
            connection.close()
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(key, value)
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward


class ElasticProxy:
    """Listens on a free loopback port; `url` is the elasticsearch:// SEARCH_URL that reaches the node."""

    def __init__(self, upstream_host: str, upstream_port: int):
        handler = type("Handler", (_Handler,), {"upstream": (upstream_host, upstream_port)})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"elasticsearch://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
