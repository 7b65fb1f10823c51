"""Docker HEALTHCHECK: exit 0 when the app answers /health with 200 over uwsgi
(`healthcheck.py /ready`: when it answers /ready so, app/ready.py).

The app container speaks only the uwsgi protocol, so this sends one uwsgi
request (a 4-byte header, then length-prefixed CGI variables) by hand.
"""

import os
import socket
import struct
import sys

# The port of uWSGI's socket, address:port (the image's ENV).
PORT = int(os.environ["UWSGI_SOCKET"].rpartition(":")[2])
VARIABLES = {
    "REQUEST_METHOD": "GET",
    "PATH_INFO": sys.argv[1] if len(sys.argv) > 1 else "/health",
    "SERVER_PROTOCOL": "HTTP/1.0",
    "SERVER_NAME": "localhost",
    "SERVER_PORT": str(PORT),
}


def encode(variables: dict[str, str]) -> bytes:
    body = b""
    for key, value in variables.items():
        for part in (key.encode(), value.encode()):
            body += struct.pack("<H", len(part)) + part
    return struct.pack("<BHB", 0, len(body), 0) + body


def main() -> int:
    try:
        with socket.create_connection(("127.0.0.1", PORT), timeout=2) as sock:
            sock.sendall(encode(VARIABLES))
            status_line = sock.recv(64).split(b"\r\n", 1)[0]
    except OSError:
        return 1
    return 0 if status_line.split()[1:2] == [b"200"] else 1


if __name__ == "__main__":
    sys.exit(main())
