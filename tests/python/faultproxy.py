"""A loopback TCP fault proxy for the fault-injection suite: sits between the functions and a service (moto,
the Kafka broker) and can refuse connections, cut the open ones, delay traffic, or swallow it, then heal.
Restarting the services themselves would wipe their in-memory data and prove nothing."""

import socket
import threading
import time


class FaultProxy:
    """Forwards 127.0.0.1:<port> to 127.0.0.1:<target_port>. Modes: "pass", "refuse" (the port is closed:
    ECONNREFUSED), "blackhole" (accepted, nothing forwarded: clients time out), "delay" (each chunk waits
    `delay` seconds). `cut()` closes every open connection."""

    def __init__(self, target_port: int, port: int = 0):
        self.target_port = target_port
        self.mode = "pass"
        self.delay = 0.0
        self.connections = 0
        self._conns = []
        self._lock = threading.Lock()
        self._listener = self._listen(port)
        self.port = self._listener.getsockname()[1]
        self._stopped = False
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @staticmethod
    def _listen(port):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(128)
        return s

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _accept_loop(self):
        while not self._stopped:
            listener = self._listener
            if listener is None:
                time.sleep(0.05)
                continue
            try:
                client, _ = listener.accept()
            except OSError:
                time.sleep(0.05)
                continue
            self.connections += 1
            if self.mode == "refuse":
                client.close()
                continue
            if self.mode == "blackhole":
                with self._lock:
                    self._conns.append(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                while self.mode == "blackhole":
                    time.sleep(0.05)
                if self.mode == "delay" and self.delay:
                    time.sleep(self.delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self):
        """Closes every open connection (a network partition mid-stream)."""
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
                c.close()
            except OSError:
                pass

    def refuse(self):
        """Closes the port and every connection: new connections are refused."""
        self.mode = "refuse"
        listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would leave the port listening.
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        self.cut()

    def blackhole(self):
        """Accepts connections but forwards nothing (requests hang until the client's timeout)."""
        self.mode = "blackhole"
        self.cut()

    def slow(self, seconds: float):
        """Delays every chunk by `seconds`."""
        self.delay = seconds
        self.mode = "delay"

    def heal(self):
        """Back to forwarding."""
        if self._listener is None:
            self._listener = self._listen(self.port)
        self.mode = "pass"
        self.delay = 0.0

    def close(self):
        self._stopped = True
        self.refuse()
