"""A real PACS for the tests: Orthanc from Debian's package, started on free ports with its storage in a temporary
folder, stopped afterwards. Only ever reached on 127.0.0.1 (it cannot be told to listen on loopback alone)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

BINARY = "/usr/sbin/Orthanc"
AE_TITLE = "TESTPACS"


@dataclass(frozen=True)
class Pacs:
    host: str
    dicom_port: int
    http_port: int
    ae_title: str

    def rest(self, path: str) -> Any:
        response = requests.get(f"http://{self.host}:{self.http_port}{path}", timeout=10)
        response.raise_for_status()
        return response.json()

    def instances(self) -> set[str]:
        """The SOP instance UIDs stored."""
        found = set()
        for orthanc_id in self.rest("/instances"):
            found.add(self.rest(f"/instances/{orthanc_id}/simplified-tags")["SOPInstanceUID"])
        return found

    def clear(self) -> None:
        for orthanc_id in self.rest("/patients"):
            requests.delete(f"http://{self.host}:{self.http_port}/patients/{orthanc_id}", timeout=10)


def available() -> bool:
    return Path(BINARY).is_file()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running() -> Iterator[Pacs]:
    folder = Path(tempfile.mkdtemp(prefix="kyphos-orthanc-"))
    pacs = Pacs("127.0.0.1", _free_port(), _free_port(), AE_TITLE)
    config = {
        "Name": "kyphos-tests",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "index"),
        "HttpPort": pacs.http_port,
        "DicomPort": pacs.dicom_port,
        "DicomAet": pacs.ae_title,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomCheckCalledAet": True,
        "DicomAlwaysAllowEcho": True,
        "DicomAlwaysAllowStore": True,
        "Plugins": [],
    }
    (folder / "orthanc.json").write_text(json.dumps(config))
    log = open(folder / "orthanc.log", "wb")  # noqa: SIM115 - closed below
    # Debian's Orthanc uses the system's DCMTK, which since 3.6.2 leaves Nagle's algorithm on for DICOM: every
    # C-STORE response then waits on the sender's delayed ACK (about 18 images/s on loopback). DCMTK turns it off
    # when TCP_NODELAY=1 is in its environment (about 95/s): what a PACS administrator sets; see the README.
    process = subprocess.Popen(
        [BINARY, str(folder / "orthanc.json")],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "TCP_NODELAY": "1"},
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                pacs.rest("/system")
                break
            except requests.RequestException:
                if time.monotonic() > deadline or process.poll() is not None:
                    tail = (folder / "orthanc.log").read_text(errors="replace")[-500:]
                    raise RuntimeError(f"Orthanc did not start: {tail}") from None
                time.sleep(0.1)
        yield pacs
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
