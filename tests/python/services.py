"""Real local services for tests, on loopback: moto server (S3/SNS/SQS) and the tansu Kafka broker. Each is
started on a free port, waited for, and stopped after; nothing is mocked inside the processes under test."""

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout}s")


def _tool(name: str) -> str:
    # The running interpreter's own scripts first (the venv's pinned moto), then PATH, then cargo's bin folder.
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name) or str(Path.home() / ".cargo" / "bin" / name)
    if not Path(found).exists():
        raise RuntimeError(f"{name} is not installed (scripts/test.sh installs it)")
    return found


@contextmanager
def moto_server(logdir: Path):
    port = free_port()
    log = open(logdir / "moto.log", "w")
    proc = subprocess.Popen([_tool("moto_server"), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    try:
        wait_for_port(port, proc, "moto_server")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@contextmanager
def tansu_broker(logdir: Path, topics=("leads",)):
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = open(logdir / "tansu.log", "w")
    tansu = _tool("tansu")
    proc = subprocess.Popen(
        [tansu, "broker", "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
        stdout=log, stderr=log,
    )
    try:
        wait_for_port(port, proc, "tansu broker")
        for t in topics:
            subprocess.run([tansu, "topic", "create", t, "--partitions", "3", "--broker", url],
                           check=True, capture_output=True, timeout=30)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def aws_env(endpoint: str) -> dict:
    return dict(
        os.environ,
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1", AWS_ENDPOINT_URL_S3=endpoint,
    )
