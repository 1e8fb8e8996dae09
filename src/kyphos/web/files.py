"""Kyphos's own files are its owner's only: what an older version (or a copy) left readable is tightened."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def tighten(folder: Path) -> int:
    """Make ``folder`` and everything under it owner-only (folders 0700, files 0600); return how many changed."""
    if not folder.exists():
        return 0
    changed = 0
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        wanted = 0o700 if path.is_dir() else 0o600
        if stat.S_IMODE(path.stat().st_mode) != wanted:
            os.chmod(path, wanted)
            changed += 1
    return changed
