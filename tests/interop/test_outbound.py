"""Kyphos sends the signed note, the charges and (as scheduler of record) the bookings to the hospital over MLLP.

A real receiving server on loopback that drops connections and answers AE now and then: every message arrives, in
the order it was queued per destination; a refusal is set aside as not sent with the receiver's reason and goes
again on resend; the messages are valid HL7 v2 that python-hl7 reads, with the note's text and PDF, the CPT and
ICD-10-CM codes, and the booking's times."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any

import hl7
import pytest
import time_machine

from tests.conftest import MONDAY
from tests.procedure.test_note import ended

AFTER = MONDAY + timedelta(minutes=95)


class Receiver:
    """An MLLP server that answers by a script: "drop" closes without an ACK, "AE" refuses, anything else AA."""

    def __init__(self, script: list[str] | None = None) -> None:
        self.script = list(script or [])
        self.received: list[bytes] = []  # every message as it arrived, repeats included
        self.accepted: list[bytes] = []  # the ones answered AA
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\x1c\r" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                if b"\x1c\r" not in data:
                    continue
                message = data[data.index(b"\x0b") + 1 : data.index(b"\x1c\r")]
                self.received.append(message)
                action = self.script.pop(0) if self.script else "AA"
                if action == "drop":
                    continue
                control = message.split(b"\r")[0].split(b"|")[9]
                code = b"AE" if action == "AE" else b"AA"
                reason = b"|Unknown account number" if action == "AE" else b""
                ack = b"MSH|^~\\&|BILLING|HOSP|KYPHOS|HOSP|20300107||ACK|A1|P|2.5.1\rMSA|" + code + b"|" + control
                conn.sendall(b"\x0b" + ack + reason + b"\r\x1c\r")
                if code == b"AA":
                    self.accepted.append(message)

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made: list[Receiver] = []

    def make(script: list[str] | None = None) -> Receiver:
        made.append(Receiver(script))
        return made[-1]

    yield make  # type: ignore[misc]
    for r in made:
        r.close()


def destination(site: Any, port: int, **flags: Any) -> Any:
    from kyphos.interop.models import Hl7Destination

    return Hl7Destination.objects.create(
        site=site, name="EHR", host="127.0.0.1", port=port, receiving_application="EPIC", timeout_seconds=5, **flags
    )


def signed(make_case: Any, actors: dict[str, Any]) -> tuple[Any, Any]:
    """A case whose procedure ended and was coded, and its note signed: (case, the signed note)."""
    from kyphos.procedure import note

    case = ended(make_case, actors)
    with time_machine.travel(AFTER):
        return case, note.sign(actors["radiologist"], case)


def drain(worker: str = "w1") -> None:
    """Run the worker's sender until nothing is left to send, moving the clock past each retry wait."""
    from kyphos.interop.hl7v2 import outbound
    from kyphos.interop.models import Hl7Message

    with time_machine.travel(AFTER + timedelta(hours=1), tick=True) as traveller:
        for _ in range(200):
            if outbound.work(worker):
                continue
            if not Hl7Message.objects.filter(direction="out", status="pending").exists():
                return
            traveller.shift(timedelta(minutes=6))
    raise AssertionError("the queue did not drain")


def fields(message: str, name: str) -> list[list[str]]:
    """Each ``name`` segment of a message split into its fields (index n is field n; for MSH, n - 1)."""
    return [line.split("|") for line in message.split("\r") if line.startswith(name + "|")]


def control_ids(messages: list[bytes]) -> list[int]:
    return [int(m.split(b"\r")[0].split(b"|")[9][2:]) for m in messages]


def test_notes_and_charges_arrive_in_order_through_drops_and_a_refusal(
    make_case: Any, actors: dict[str, Any], site: Any, receiver: Any
) -> None:
    from kyphos.interop.hl7v2 import outbound
    from kyphos.interop.models import Hl7Message

    server = receiver(["drop", "AA", "drop", "drop", "AE", "AA"])
    dest = destination(site, server.port, sends_notes=True, sends_charges=True)
    for _ in range(3):
        signed(make_case, actors)
    drain()
    rows = list(Hl7Message.objects.filter(direction="out").order_by("id"))
    assert len(rows) == 6 and {r.message_type for r in rows} == {"MDM^T02^MDM_T02", "DFT^P03^DFT_P03"}
    refused = [r for r in rows if r.status == "failed"]
    assert len(refused) == 1 and refused[0].ack_code == "AE" and "Unknown account number" in refused[0].error
    accepted = control_ids(server.accepted)
    assert accepted == sorted(accepted) and len(accepted) == 5  # in queue order, each once
    # Resend after the cause is fixed: it goes, and nothing is sent twice.
    outbound.resend(actors["admin"], refused[0])
    drain()
    assert sorted(control_ids(server.accepted)) == [r.pk for r in rows]
    assert all(r.status == "sent" for r in Hl7Message.objects.filter(direction="out"))
    assert dest.messages.count() == 6
    # Found again later: nothing new is queued for what was already given.
    assert outbound.enqueue_due() == 0


def test_the_note_and_the_charge_say_what_the_record_holds(
    make_case: Any, actors: dict[str, Any], site: Any, receiver: Any
) -> None:
    from kyphos.procedure.models import ProcedureRecord

    server = receiver()
    destination(site, server.port, sends_notes=True, sends_charges=True)
    case, signed_note = signed(make_case, actors)
    drain()
    by_type = {str(hl7.parse(m.decode()).segment("MSH")(9)): m.decode() for m in server.accepted}
    mdm, dft = by_type["MDM^T02^MDM_T02"], by_type["DFT^P03^DFT_P03"]
    for message in (mdm, dft):
        assert fields(message, "PID")[0][3] == f"{case.patient.mrn}^^^HOSP^MR"
        assert fields(message, "MSH")[0][4] == "EPIC"  # MSH-5: the MSH's own field numbering is one off
    assert fields(mdm, "TXA")[0][17] == "AU"
    text = [obx[5] for obx in fields(mdm, "OBX") if obx[2] == "TX"]
    impression = next(s["text"] for s in signed_note.sections if s["key"] == "impression")
    assert impression.splitlines()[0] in text
    (pdf,) = [obx[5] for obx in fields(mdm, "OBX") if obx[2] == "ED"]
    assert base64.b64decode(pdf.split("^")[4]).startswith(b"%PDF")
    coding = ProcedureRecord.objects.get(case=case).coding
    assert [ft1[7].split("^")[0] for ft1 in fields(dft, "FT1")] == coding["cpt"]
    assert [dg1[3].split("^")[0] for dg1 in fields(dft, "DG1")] == coding["icd10cm"]
    assert hl7.parse(mdm).segment("PID") and hl7.parse(dft).segment("PID")  # python-hl7 reads them


def test_a_note_as_oru_for_a_destination_that_wants_reports(
    make_case: Any, actors: dict[str, Any], site: Any, receiver: Any
) -> None:

    server = receiver()
    destination(site, server.port, sends_notes=True, note_as="ORU")
    signed(make_case, actors)
    drain()
    (message,) = [m.decode() for m in server.accepted]
    assert fields(message, "MSH")[0][8] == "ORU^R01^ORU_R01" and fields(message, "OBR")[0][25] == "F"


def test_no_ack_is_retried_then_set_aside_and_other_destinations_go_on(
    make_case: Any, actors: dict[str, Any], site: Any, receiver: Any, settings: Any
) -> None:
    from kyphos.interop.models import Hl7Message

    settings.KYPHOS_HL7_SEND_ATTEMPTS = 3
    silent = receiver(["drop"] * 10)
    working = receiver()
    destination(site, silent.port, sends_notes=True)
    destination(site, working.port, sends_charges=True)
    signed(make_case, actors)
    drain()
    lost = Hl7Message.objects.get(direction="out", destination__port=silent.port)
    assert (lost.status, lost.attempts, len(silent.received)) == ("failed", 3, 3)
    assert lost.error.startswith("No ACK after 3 attempts")
    assert len(working.accepted) == 1


def test_a_claimed_message_holds_its_destinations_queue(
    make_case: Any, actors: dict[str, Any], site: Any, receiver: Any
) -> None:
    from kyphos.interop.hl7v2 import outbound

    server = receiver()
    destination(site, server.port, sends_notes=True, sends_charges=True)
    signed(make_case, actors)
    with time_machine.travel(AFTER + timedelta(hours=1)):
        assert outbound.enqueue_due() == 2
        first = outbound.claim_next("w1")
        assert first is not None and outbound.claim_next("w2") is None  # the second must wait its turn
    with time_machine.travel(AFTER + timedelta(hours=2)):  # the first worker died: its lease ran out
        again = outbound.claim_next("w2")
        assert again is not None and again.pk == first.pk and again.attempts == 2


def test_as_scheduler_of_record_kyphos_sends_the_bookings(
    make_case: Any, actors: dict[str, Any], site: Any, receiver: Any
) -> None:
    from kyphos.interop.models import SiteInterface
    from kyphos.pathway import services

    SiteInterface.objects.create(site=site, scheduler_of_record=True)
    server = receiver()
    destination(site, server.port, sends_bookings=True)
    case = make_case("scheduled")
    room = site.rooms.get(name="IR Suite 2")
    later = case.appointment.start + timedelta(days=1)
    case = services.reschedule_case(
        actors["scheduler"], case, version=case.version, room=room, start=later, minutes=60, reason="room"
    )
    services.postpone_case(actors["scheduler"], case, version=case.version, reason="patient_request")
    drain()
    events = [fields(m.decode(), "MSH")[0][8].split("^")[1] for m in server.accepted]
    assert events == ["S12", "S13", "S15"]
    moved = server.accepted[1].decode()
    assert fields(moved, "AIL")[0][3].split("^")[1] == "IR Suite 2"
    assert fields(moved, "AIS")[0][4] == later.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")


def test_a_note_committed_after_a_search_began_is_still_found(
    make_case: Any, actors: dict[str, Any], site: Any, receiver: Any
) -> None:
    """The search for what to send looks back an hour before the previous one began: a note signed (time-stamped)
    before that search but committed after it is not missed."""
    from kyphos.interop.hl7v2 import outbound
    from kyphos.interop.models import Hl7Destination

    server = receiver()
    dest = destination(site, server.port, sends_notes=True)
    signed(make_case, actors)
    Hl7Destination.objects.filter(pk=dest.pk).update(scanned_to=AFTER + timedelta(minutes=30))
    with time_machine.travel(AFTER + timedelta(minutes=40)):
        assert outbound.enqueue_due() == 1
        assert outbound.enqueue_due() == 0  # and only once
