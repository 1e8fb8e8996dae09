"""The MLLP listener as a sending system meets it: a real `kyphos mllp` process on a real socket, python-hl7's own
MLLP client, messages as interface engines send them. Every message gets an ACK only after it is stored, a repeat
gets the same ACK byte for byte, what cannot be read gets AR with the place to blame, and the listener keeps
serving whatever arrives."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from hl7.client import MLLPClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.databases import Env, kyphos, sql
from tests.interop.conftest import MAX_BYTES

ADT = (
    "MSH|^~\\&|EPIC|RIVERSIDE|KYPHOS|HOSP|20261203101500||ADT^A01^ADT_A01|{id}|P|2.5.1\r"
    "EVN|A01|20261203101500\r"
    "PID|1||H200{n:03d}^^^HOSP^MR||Okafor^Grace||19440229|F|||12 Main St^^New York^NY^10001||+12125550100\r"
)


def adt(control_id: str, n: int = 1) -> bytes:
    return ADT.format(id=control_id, n=n).encode()


def unframe(data: bytes) -> bytes:
    assert data.startswith(b"\x0b") and data.endswith(b"\x1c\x0d"), data
    return data[1:-2]


def msa(ack: bytes, codec: str = "utf-8") -> list[str]:
    segments = ack.decode(codec).split("\r")
    separator = segments[0][3]
    return next(s for s in segments if s.startswith("MSA")).split(separator)


def err(ack: bytes) -> tuple[str, str]:
    """(location, reason) from the ERR segment: ERR-2 and ERR-8 from v2.5 on, ERR-1 (and MSA-3) before."""
    segments = ack.decode("utf-8", errors="replace").split("\r")
    separator, component = segments[0][3], segments[0][4]
    fields = next((s for s in segments if s.startswith("ERR")), "").split(separator)
    if len(fields) > 8:
        return fields[2], fields[8]
    return component.join(fields[1].split(component)[:3]).rstrip(component), msa(ack, "latin-1")[3]


def send(listener: dict[str, Any], *messages: bytes) -> list[bytes]:
    with MLLPClient("127.0.0.1", listener["port"]) as client:
        return [unframe(client.send_message(m)) for m in messages]


def stored(env: Env, control_id: str) -> list[tuple[Any, ...]]:
    return sql(env, f"SELECT status, ack_code, ack, repeats FROM interop_hl7message WHERE control_id = '{control_id}'")  # noqa: S608


def test_a_message_is_acknowledged_once_it_is_stored(listener: dict[str, Any]) -> None:
    (ack,) = send(listener, adt("CTRL-1"))
    assert msa(ack)[:2] == ["MSA", "AA"] and msa(ack)[2] == "CTRL-1"
    header = ack.decode().split("\r")[0].split("|")
    assert header[2:6] == ["KYPHOS", "KYPHOS", "EPIC", "RIVERSIDE"]  # answered to its sender
    assert header[8] == "ACK^A01^ACK" and header[11] == "2.5.1"
    ((status, code, stored_ack, repeats),) = stored(listener["env"], "CTRL-1")
    assert code == "AA" and bytes(stored_ack) == ack and repeats == 0
    assert status == "processed"  # the patient is registered (tests/interop/test_adt.py)


def test_a_repeat_gets_the_same_ack_byte_for_byte_and_changes_nothing(listener: dict[str, Any]) -> None:
    first, again = send(listener, adt("CTRL-2"), adt("CTRL-2"))
    assert again == first
    ((_status, _code, _ack, repeats),) = stored(listener["env"], "CTRL-2")
    assert repeats == 1


LATIN = (
    "MSH|^~\\&|LAB|RIVERSIDE|KYPHOS|HOSP|20261203||ADT^A08|{id}|P|2.3||||||8859/1\r"
    "PID|1||H300001^^^HOSP^MR||Muñoz^José||19500101|M\r"
).format
TOLERATED = {
    "LF segment ends": adt("TOL-LF").replace(b"\r", b"\n"),
    "CRLF segment ends": adt("TOL-CRLF").replace(b"\r", b"\r\n"),
    "byte-order mark": b"\xef\xbb\xbf" + adt("TOL-BOM"),
    "trailing whitespace": adt("TOL-WS").replace(b"\r", b"   \r") + b"\r\n\r\n",
    "ISO 8859-1 (MSH-18)": LATIN(id="TOL-LATIN").encode("latin-1"),
    "UTF-8 without MSH-18": LATIN(id="TOL-UTF8").replace("8859/1", "").encode(),
    "own delimiters": adt("TOL-DELIM").replace(b"|", b"#").replace(b"^", b"*").replace(b"~", b"!").replace(b"&", b"$"),
    "version 2.2": adt("TOL-22").replace(b"|2.5.1\r", b"|2.2\r"),
    "version 2.3.1": adt("TOL-231").replace(b"|2.5.1\r", b"|2.3.1\r"),
    "version 2.4": adt("TOL-24").replace(b"|2.5.1\r", b"|2.4\r"),
    "version 2.6": adt("TOL-26").replace(b"|2.5.1\r", b"|2.6\r"),
    "version 2.7.1": adt("TOL-271").replace(b"|2.5.1\r", b"|2.7.1\r"),
    "version 2.8": adt("TOL-28").replace(b"|2.5.1\r", b"|2.8\r"),
    "missing optional fields": b"MSH|^~\\&|A|B|||||ADT^A04|TOL-MIN|P|2.5\rPID|||H1^^^HOSP||Doe^J||19500101\r",
}


@pytest.mark.parametrize("kind", sorted(TOLERATED))
def test_messages_as_engines_send_them_are_read(listener: dict[str, Any], kind: str) -> None:
    (ack,) = send(listener, TOLERATED[kind])
    fields = msa(ack, "latin-1")
    assert fields[1] == "AA", (kind, ack)
    assert fields[2].startswith("TOL-")


UNREADABLE = {
    "not HL7 at all": (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "MSH^1", "does not start with an MSH segment"),
    "no control id": (adt("").replace(b"||P|", b"||P|"), "MSH^1^10", "MSH-10"),
    "unsupported version": (adt("BAD-V").replace(b"|2.5.1\r", b"|3.0\r"), "MSH^1^12", "version '3.0'"),
    "not UTF-8 though it says so": (
        LATIN(id="BAD-UTF").replace("8859/1", "UNICODE UTF-8").encode("latin-1"),
        "MSH^1^18",
        "not valid UNICODE UTF-8",
    ),
    "a NUL byte": (adt("BAD-NUL").replace(b"Grace", b"Gr\x00ce"), "MSH^1", "NUL"),
    "a letter as field separator": (b"MSHX^~\\&XAXB", "MSH^1^1", "MSH-1"),
    "a byte beyond ASCII as field separator": (adt("BAD-SEP").replace(b"|", b"\xff"), "MSH^1^1", "MSH-1"),
    "a byte beyond ASCII among the delimiters": (adt("BAD-ENC").replace(b"^~\\&", b"^~\\\xe9", 1), "MSH^1^2", "MSH-2"),
}


@pytest.mark.parametrize("kind", sorted(UNREADABLE))
def test_what_cannot_be_read_is_refused_with_the_place_and_kept(listener: dict[str, Any], kind: str) -> None:
    raw, location, reason = UNREADABLE[kind]
    ack, after = send(listener, raw, adt(f"AFTER-{kind[:8]}"))
    assert msa(ack, "latin-1")[1] == "AR", ack
    place, why = err(ack)
    assert place == location and reason in why, (place, why)
    assert msa(after)[1] == "AA"  # the listener and the connection go on
    rows = sql(listener["env"], "SELECT count(*) FROM interop_hl7message WHERE status = 'rejected'")
    assert rows[0][0] >= 1


def test_a_message_over_the_size_limit_is_refused_and_skipped(listener: dict[str, Any]) -> None:
    big = adt("BIG-1") + b"NTE|1||" + b"x" * (MAX_BYTES * 2) + b"\r"
    ack, after = send(listener, big, adt("AFTER-BIG"))
    assert msa(ack)[1] == "AR" and f"larger than {MAX_BYTES} bytes" in err(ack)[1]
    assert msa(after)[1:3] == ["AA", "AFTER-BIG"]


def test_many_connections_at_once_each_in_order(listener: dict[str, Any]) -> None:
    answers: dict[int, list[str]] = {}

    def sender(n: int) -> None:
        acks = send(listener, *(adt(f"PAR-{n}-{i}", i) for i in range(25)))
        answers[n] = [msa(a)[2] for a in acks if msa(a)[1] == "AA"]

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(answers[n] == [f"PAR-{n}-{i}" for i in range(25)] for n in range(8))  # each, in order
    count = sql(listener["env"], "SELECT count(*) FROM interop_hl7message WHERE control_id LIKE 'PAR-%'")
    assert count[0][0] == 200


def test_mllp_send_the_command_line_client_is_answered(listener: dict[str, Any], tmp_path: Path) -> None:
    file = tmp_path / "one.hl7"
    file.write_bytes(b"\x0b" + adt("CLI-1") + b"\x1c\x0d")
    mllp_send = Path(sys.executable).parent / "mllp_send"
    done = subprocess.run(
        [str(mllp_send), "--file", str(file), "--port", str(listener["port"]), "127.0.0.1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert "MSA|AA|CLI-1" in done.stdout


MANGLE = st.lists(
    st.one_of(
        st.binary(max_size=60),
        st.sampled_from([b"|", b"^", b"~", b"\\", b"&", b"\r", b"\n", b"MSH", b"PID", b"\x0b", b"\x1c", b"\xff"]),
    ),
    max_size=12,
)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(cut=st.integers(min_value=0, max_value=200), noise=MANGLE)
def test_mangled_messages_each_get_an_ack_and_the_listener_serves_on(
    listener: dict[str, Any], cut: int, noise: list[bytes]
) -> None:
    raw = adt("FUZZ")[:cut] + b"".join(noise)
    raw = raw.replace(b"\x0b", b"")
    while b"\x1c\x0d" in raw:  # a frame cannot hold its own end block
        raw = raw.replace(b"\x1c\x0d", b"")
    with socket.create_connection(("127.0.0.1", listener["port"]), timeout=20) as conn:
        conn.sendall(b"\x0b" + raw + b"\x1c\x0d")
        data = b""
        while not data.endswith(b"\x1c\x0d"):
            chunk = conn.recv(4096)
            assert chunk, "the listener closed the connection without an ACK"
            data += chunk
    ack = unframe(data)
    assert msa(ack, "latin-1")[1] in {"AA", "AE", "AR"}
    assert listener["process"].poll() is None


def test_the_stored_messages_are_listed_for_scripts(listener: dict[str, Any]) -> None:
    send(listener, adt("LIST-1"), b"not hl7")
    done = kyphos(listener["env"], "hl7", "messages", "--json", "--limit", "1000")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    listed = next(r for r in rows if r["control_id"] == "LIST-1")
    assert listed["type"] == "ADT^A01" and listed["ack_code"] == "AA" and listed["direction"] == "in"
    assert listed["sending_application"] == "EPIC" and len(listed["patient"]) == 36  # the patient it registered
    rejected = kyphos(listener["env"], "hl7", "messages", "--status", "rejected", "--json")
    assert all(r["status"] == "rejected" and r["ack_code"] == "AR" for r in json.loads(rejected.stdout))
    assert "Okafor" not in done.stdout  # identifiers only, never the patient's data
    bad = kyphos(listener["env"], "hl7", "messages", "--since", "yesterday")
    assert bad.returncode == 2 and bad.stderr.startswith("kyphos hl7: ")
    refused = kyphos(listener["env"], "hl7", "replay", str(listed["id"]))
    assert refused.returncode == 2 and "Only a received message that ended in an error" in refused.stderr
    listings = sql(listener["env"], "SELECT username FROM audit_auditentry WHERE object_type = 'hl7_message'")
    assert ("kyphos hl7 messages",) in listings  # reading the messages is audited like any other read
