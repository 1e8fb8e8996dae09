"""Images from a patient's CD reach a real PACS (Orthanc, started by the test on loopback) by C-STORE, one
association per study; what is already there is not sent again; C-ECHO tells a working connection from a wrong
AE title. What arrived is checked through Orthanc's own REST API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kyphos.interop.dicom import reader, store
from tests import orthanc
from tests.conftest import require_part
from tests.discs import fileset_copy


@pytest.fixture(scope="module")
def pacs() -> Iterator[orthanc.Pacs]:
    require_part(orthanc.available(), f"Orthanc is not installed ({orthanc.BINARY}): apt-get install orthanc")
    with orthanc.running() as running:
        yield running


def test_the_disc_goes_to_the_pacs_once_and_an_interrupted_send_resumes(pacs: orthanc.Pacs, tmp_path: Path) -> None:
    pacs.clear()
    disc = reader.read(fileset_copy(tmp_path))
    pairs = [(study.uid, instance) for _patient, study, _series, instance in disc.instances]
    destination = store.Destination(pacs.ae_title, pacs.host, pacs.dicom_port)
    assert store.echo(destination) == ""
    # The first study only, as if the import stopped there; then all of it, knowing what was stored.
    first_study = pairs[0][0]
    done: list[str] = []
    part = store.send(
        destination, [p for p in pairs if p[0] == first_study], set(), lambda i: done.append(i.sop_instance_uid)
    )
    assert part.failed == [] and sorted(part.stored) == sorted(done) and done
    rest = store.send(destination, pairs, set(done))
    assert rest.failed == [] and sorted(rest.skipped) == sorted(done)
    assert not set(rest.stored) & set(done)
    assert pacs.instances() == {i.sop_instance_uid for _s, i in pairs}
    studies = {pacs.rest(f"/studies/{s}")["MainDicomTags"]["StudyInstanceUID"] for s in pacs.rest("/studies")}
    assert studies == {s for s, _i in pairs}


def test_a_wrong_ae_title_or_port_is_named_and_nothing_is_stored(pacs: orthanc.Pacs, tmp_path: Path) -> None:
    pacs.clear()
    wrong = store.Destination("NOTTHEPACS", pacs.host, pacs.dicom_port, timeout=5)
    assert store.echo(wrong) == "rejected"
    closed = store.Destination(pacs.ae_title, pacs.host, 1, timeout=5)
    assert store.echo(closed) == "unreachable"
    disc = reader.read(fileset_copy(tmp_path))
    (_patient, study, _series, instance) = next(iter(disc.instances))
    refused = store.send(wrong, [(study.uid, instance)], set(), pause=0)
    assert refused.failed == [(instance.sop_instance_uid, "rejected")] and pacs.instances() == set()
