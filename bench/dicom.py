"""Outside imaging: a 2,000-image CD copy read in for a case of the demo department, then stored.

``python -m bench.dicom --images 2000 --out FILE`` against the database the environment names (SQLite in
``bench.run``). Reports, each the median of ``--repeat`` runs:

- ``raw_read_s``: pydicom reading every file of the disc whole (``dcmread``): the floor;
- ``import_s`` (``dicomdir`` and ``scan``): ``importing.read_in`` for the case (the disc read by its DICOMDIR, or
  file by file without one; the identity check; the import, its studies and the audit entry written). Goal:
  ≤ 1.2 × ``raw_read_s``;
- ``keep_per_s``: images copied into Kyphos's own storage (a site without a PACS), with their records;
- ``cstore_per_s``: images stored to Orthanc on loopback by ``importing.store_import`` (C-STORE, one association
  per study, each recorded as stored), beside ``cstore_floor_per_s``, pynetdicom sending the same files with
  nothing recorded. Goal: ≥ 80 images/s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import django

STUDIES = 4


def build_disc(root: Path, images: int, name: str, birth_date: str, sex: str) -> None:
    """``images`` CT images of one patient in four studies, with a DICOMDIR (pydicom's FileSet writes it)."""
    from pydicom import dcmread
    from pydicom.data import get_testdata_file
    from pydicom.fileset import FileSet
    from pydicom.uid import generate_uid

    template = dcmread(get_testdata_file("CT_small.dcm"))
    template.PatientName, template.PatientBirthDate, template.PatientSex = name, birth_date, sex
    template.PatientID = "OUT123456"
    studies = [(generate_uid(), generate_uid()) for _ in range(STUDIES)]
    fileset = FileSet()
    for n in range(images):
        study, series = studies[n % STUDIES]
        template.StudyInstanceUID, template.SeriesInstanceUID = study, series
        template.SOPInstanceUID = generate_uid()
        template.file_meta.MediaStorageSOPInstanceUID = template.SOPInstanceUID
        template.InstanceNumber = n + 1
        fileset.add(template.copy())
    fileset.write(root)


def median_of(repeat: int, run: object) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kyphos.settings")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from pydicom import dcmread
    from tests import orthanc

    from kyphos.audit.actor import Actor
    from kyphos.demo import department
    from kyphos.interop.dicom import importing, store
    from kyphos.interop.models import SiteInterface
    from kyphos.pathway.models import Case
    from kyphos.pathway.stages import Stage
    from kyphos.precall import imaging
    from kyphos.rules import identity

    call_command("migrate", verbosity=0)
    department.load_demo()
    case = Case.objects.filter(stage=Stage.SCHEDULED).select_related("patient", "site").order_by("id").first()
    assert case is not None
    patient = case.patient
    sex = identity.SEX.get(patient.sex, "")
    work = Path(tempfile.mkdtemp(prefix="kyphos-bench-dicom-"))
    settings.KYPHOS_OUTSIDE_DIR, settings.KYPHOS_IMAGE_DIR = work / "outside", work / "images"
    try:
        with_dir, without = work / "cd", work / "cd-scan"
        print(f"dicom: building a {args.images:,}-image CD…", flush=True)
        build_disc(
            with_dir, args.images, f"{patient.family_name}^{patient.given_name}", f"{patient.date_of_birth:%Y%m%d}", sex
        )
        shutil.copytree(with_dir, without, ignore=shutil.ignore_patterns("DICOMDIR"))
        files = [p for p in with_dir.rglob("*") if p.is_file() and p.name != "DICOMDIR"]
        actor = Actor.system("bench")

        def raw() -> None:
            for path in files:
                dcmread(path)

        def read_in(root: Path) -> object:
            return lambda: importing.read_in(actor, case, root, source="cd")

        raw()  # the page cache warm for everyone
        raw_s = median_of(args.repeat, raw)
        dicomdir_s = median_of(args.repeat, read_in(with_dir))
        scan_s = median_of(args.repeat, read_in(without))

        outside, disc = importing.read_in(actor, case, with_dir, source="cd")
        outside = imaging.confirm_import(actor, outside, version=outside.version)
        began = time.perf_counter()
        kept = importing.store_import(actor, outside, disc)
        keep_s = time.perf_counter() - began
        assert kept.stored_count == args.images, (kept.status, kept.stored_count, kept.last_error)

        cstore: dict[str, object] = {}
        if orthanc.available():
            with orthanc.running() as pacs:
                interface, _created = SiteInterface.objects.get_or_create(site=case.site)
                interface.pacs_ae_title, interface.pacs_host, interface.pacs_port = (
                    pacs.ae_title,
                    pacs.host,
                    pacs.dicom_port,
                )
                interface.save()
                pairs = [(s.uid, i) for _p, s, _se, i in disc.instances]
                destination = store.Destination(pacs.ae_title, pacs.host, pacs.dicom_port)
                began = time.perf_counter()
                floor = store.send(destination, pairs, set())
                floor_s = time.perf_counter() - began
                assert not floor.failed, floor.failed[:3]
                pacs.clear()
                outside, disc = importing.read_in(actor, case, with_dir, source="cd")
                outside = imaging.confirm_import(actor, outside, version=outside.version)
                began = time.perf_counter()
                sent = importing.store_import(actor, outside, disc)
                sent_s = time.perf_counter() - began
                assert sent.stored_count == args.images, (sent.status, sent.last_error)
                cstore = {
                    "cstore_per_s": round(args.images / sent_s, 1),
                    "cstore_floor_per_s": round(args.images / floor_s, 1),
                    "pacs": "Orthanc (Debian package) on loopback, TCP_NODELAY=1 in its environment",
                }
        else:
            print("dicom: Orthanc is not installed: C-STORE not measured (apt-get install orthanc)", file=sys.stderr)
        result = {
            "images": args.images,
            "disc_mb": round(sum(p.stat().st_size for p in files) / 1e6, 1),
            "raw_read_s": round(raw_s, 3),
            "import_s": {"dicomdir": round(dicomdir_s, 3), "scan": round(scan_s, 3)},
            "import_vs_raw": {"dicomdir": round(dicomdir_s / raw_s, 2), "scan": round(scan_s / raw_s, 2)},
            "keep_per_s": round(args.images / keep_s, 1),
            **cstore,
            "goals": {"import_vs_raw": 1.2, "cstore_per_s": 80},
        }
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
