"""Patient CDs for the tests, built from the DICOM files that ship inside the pydicom wheel (no download)."""

from __future__ import annotations

import shutil
from pathlib import Path

from pydicom.data import get_testdata_file


def fileset_copy(tmp_path: Path) -> Path:
    """A CD as the pydicom wheel ships it: a DICOMDIR and the three folders of images it lists."""
    source = Path(str(get_testdata_file("DICOMDIR"))).parent
    target = tmp_path / "cd"
    for folder in ("77654033", "98892001", "98892003"):
        shutil.copytree(source / folder, target / folder)
    shutil.copy(source / "DICOMDIR", target / "DICOMDIR")
    return target
