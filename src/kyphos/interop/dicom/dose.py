"""The procedure's radiation dose from its X-Ray Radiation Dose Structured Report (RDSR).

The fluoroscopy unit writes one RDSR per study (DICOM PS3.3 2024, A.35.8, "X-Ray Radiation Dose SR IOD"; content
by PS3.16 2024, TID 10001 "Projection X-Ray Radiation Dose" and TID 10002 "Accumulated X-Ray Dose Data"). The totals
this reads are numeric items coded in the DICOM vocabulary (DCM): 113730 "Total Fluoro Time", 113725 "Dose (RP)
Total" (the air kerma at the patient entrance reference point) and 113722 "Dose Area Product Total", each with UCUM
units. A biplane system reports one accumulated set per plane: the planes are added.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydicom import dcmread

from kyphos.procedure.services import DoseReport
from kyphos.rules import identity

RDSR_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.88.67"  # X-Ray Radiation Dose SR Storage (PS3.4 B.5)
FLUORO_TIME, DOSE_RP_TOTAL, DAP_TOTAL = "113730", "113725", "113722"
# UCUM units as RDSRs write them, to seconds, mGy and Gy·cm².
TO_SECONDS = {"s": Decimal(1), "min": Decimal(60)}
TO_MGY = {"Gy": Decimal(1000), "mGy": Decimal(1), "dGy": Decimal(100)}
TO_GYCM2 = {"Gy.m2": Decimal(10000), "Gy.cm2": Decimal(1), "dGy.cm2": Decimal("0.1"), "mGy.cm2": Decimal("0.001")}
WANTED = {FLUORO_TIME: TO_SECONDS, DOSE_RP_TOTAL: TO_MGY, DAP_TOTAL: TO_GYCM2}


def _items(sequence: Any) -> Iterator[Any]:
    for item in sequence or []:
        yield item
        if "ContentSequence" in item:
            yield from _items(item.ContentSequence)


def _code(item: Any, keyword: str) -> tuple[str, str]:
    if keyword not in item or not item[keyword].value:
        return "", ""
    first = item[keyword].value[0]
    return str(getattr(first, "CodeValue", "") or ""), str(getattr(first, "CodingSchemeDesignator", "") or "")


def read(path: Path) -> DoseReport | None:
    """The totals of the RDSR at ``path``, or None when it is not one (or holds none of them)."""
    data = dcmread(path, force=True)
    if str(getattr(data, "SOPClassUID", "")) != RDSR_SOP_CLASS:
        return None
    totals: dict[str, Decimal] = {}
    for item in _items(getattr(data, "ContentSequence", [])):
        if str(getattr(item, "ValueType", "")) != "NUM":
            continue
        code, scheme = _code(item, "ConceptNameCodeSequence")
        if scheme != "DCM" or code not in WANTED or "MeasuredValueSequence" not in item:
            continue
        measured = item.MeasuredValueSequence[0] if item.MeasuredValueSequence else None
        if measured is None:
            continue
        unit, _scheme = _code(measured, "MeasurementUnitsCodeSequence")
        factor = WANTED[code].get(unit)
        try:
            value = Decimal(str(measured.NumericValue)) * factor if factor is not None else None
        except (InvalidOperation, AttributeError, ValueError):
            value = None
        if value is not None:
            totals[code] = totals.get(code, Decimal(0)) + value
    if not totals:
        return None
    performed = identity.dicom_date(str(getattr(data, "StudyDate", "") or ""))
    seconds = totals.get(FLUORO_TIME)
    kerma = totals.get(DOSE_RP_TOTAL)
    dap = totals.get(DAP_TOTAL)
    return DoseReport(
        performed_on=performed,
        fluoro_seconds=int(seconds.to_integral_value()) if seconds is not None else None,
        air_kerma_mgy=kerma.quantize(Decimal("0.1")) if kerma is not None else None,
        dap_gycm2=dap.quantize(Decimal("0.01")) if dap is not None else None,
    )
