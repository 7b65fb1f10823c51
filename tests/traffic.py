"""Traffic that tests a deployment: clients that hold connections open without
finishing a request, and a steady loop of requests that counts what failed.

Used by the tests and by benchmarks/benchmark.py.
"""

import http.client
import resource
import selectors
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

# Half a request: the header's end (an empty line) never comes.
HALF_REQUEST = b"GET / HTTP/1.1\r\nHost: slow\r\nUser-Agent: slowloris\r\n"


def raise_file_limit(needed):
    """This process may open `needed` more sockets (up to its hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, soft + needed) if hard != resource.RLIM_INFINITY else soft + needed
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _connect_all(host, port, count, deadline):
    """count non-blocking connections; the list of those connected by the deadline."""
    raise_file_limit(count + 100)
    selector = selectors.DefaultSelector()
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex((host, port))
        selector.register(sock, selectors.EVENT_WRITE)
    connected = []
    while selector.get_map() and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            sock = key.fileobj
            selector.unregister(sock)
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                connected.append(sock)
            else:
                sock.close()
    for key in list(selector.get_map().values()):
        key.fileobj.close()
    selector.close()
    return connected


def _send_all(socks, data):
    for sock in socks:
        try:
            sock.send(data)
        except OSError:
            pass


def still_open(socks):
    """How many of socks the server has neither closed nor answered."""
    socks = [sock for sock in socks if sock.fileno() != -1]  # not closed here
    selector = selectors.DefaultSelector()
    for sock in socks:
        selector.register(sock, selectors.EVENT_READ)
    answered = {key.fileobj for key, _ in selector.select(timeout=0)}
    selector.close()
    return len(socks) - len(answered)


def _read_headers(socks, deadline):
    """Read each socket's answer up to its empty line; those that got one."""
    selector = selectors.DefaultSelector()
    received = {}
    for sock in socks:
        selector.register(sock, selectors.EVENT_READ)
        received[sock] = b""
    done = []
    while selector.get_map() and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            sock = key.fileobj
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            received[sock] += data
            if not data or b"\r\n\r\n" in received[sock]:
                selector.unregister(sock)
                if data:
                    done.append(sock)
    selector.close()
    return done


@dataclass
class Held:
    slow: list = field(default_factory=list)  # half a request header sent
    idle: list = field(default_factory=list)  # one request answered, kept alive
    reopened: int = 0  # slow connections the server closed, opened again

    def close(self):
        for sock in self.slow + self.idle:
            sock.close()


def _open_slow(host, port, count, deadline):
    socks = _connect_all(host, port, count, deadline)
    _send_all(socks, HALF_REQUEST)
    return socks


def _keep_slow(held, host, port, stop):
    """As an attacker does: each slow connection the server closes is opened
    again at once, so that the server stays as full as it lets itself be."""
    while not stop.wait(0.05):
        selector = selectors.DefaultSelector()
        for sock in held.slow:
            selector.register(sock, selectors.EVENT_READ)
        closed = {key.fileobj for key, _ in selector.select(timeout=0)}
        selector.close()
        if closed:
            fresh = _open_slow(host, port, len(closed), time.monotonic() + 1)
            held.slow = [sock for sock in held.slow if sock not in closed] + fresh
            held.reopened += len(closed)
            for sock in closed:
                sock.close()


@contextmanager
def held_connections(host, port, slow=0, idle=0, idle_path="/health", timeout=30, keep=False):
    """Hold `slow` connections that sent half a request header and `idle`
    keep-alive connections that finished one request (HEAD idle_path), both
    from this host, while the block runs. With keep, slow connections the
    server closes are opened again until the block ends."""
    deadline = time.monotonic() + timeout
    held = Held()
    stop = threading.Event()
    keeper = threading.Thread(target=_keep_slow, args=(held, host, port, stop), daemon=True)
    try:
        held.slow = _open_slow(host, port, slow, deadline)
        idle_socks = _connect_all(host, port, idle, deadline)
        request = f"HEAD {idle_path} HTTP/1.1\r\nHost: idle\r\n\r\n".encode()
        _send_all(idle_socks, request)
        held.idle = _read_headers(idle_socks, deadline)
        for sock in set(idle_socks) - set(held.idle):
            sock.close()
        if keep:
            keeper.start()
        yield held
    finally:
        stop.set()
        if keeper.is_alive():
            keeper.join()
        held.close()


def fresh_requests(host, port, count=20, timeout=2.0, path="/"):
    """count new requests one after another; the seconds each took to a 200,
    None for each that failed or took longer than timeout."""
    times = []
    for _ in range(count):
        started = time.monotonic()
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            elapsed = time.monotonic() - started
            times.append(elapsed if response.status == 200 and elapsed <= timeout else None)
        except OSError:
            times.append(None)
        finally:
            connection.close()
    return times


class Loop:
    """GET a URL every `interval` seconds in a thread while the block runs;
    records when each request ended and whether it got a 200."""

    def __init__(self, host, port, path="/health", interval=0.02, timeout=5.0):
        self.host, self.port, self.path = host, port, path
        self.interval, self.timeout = interval, timeout
        self.results = []  # (ended, ok)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            started = time.monotonic()
            connection = self.connection()
            try:
                connection.request("GET", self.path)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
            finally:
                connection.close()
            self.results.append((time.monotonic(), ok))
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def connection(self):
        """A new connection for each request (a subclass may make it HTTPS)."""
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def failed(self):
        return sum(1 for _, ok in self.results if not ok)

    @property
    def longest_gap(self):
        """The longest time with no 200 answer, between two that came (seconds)."""
        ends = [ended for ended, ok in self.results if ok]
        return max((b - a for a, b in zip(ends, ends[1:], strict=False)), default=0.0)

    def __str__(self):
        return (
            f"{len(self.results)} requests, {self.failed} failed, "
            f"longest gap between answers {self.longest_gap:.2f} s"
        )
