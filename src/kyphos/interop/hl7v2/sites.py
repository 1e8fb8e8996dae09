"""Which site a message is about, and that site's interface settings (interop.models.SiteInterface)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from kyphos.interop.models import SiteInterface
from kyphos.scheduling.models import Site


def interface_of(site: Site) -> SiteInterface:
    """The site's settings; a site never configured gets the defaults (not saved)."""
    found = SiteInterface.objects.filter(site=site).select_related("site").first()
    return found if found is not None else SiteInterface(site=site)


def site_named(*names: str) -> Site | None:
    """The active site whose code or configured facility names match the first of ``names`` that names one; when
    none does and the hospital has a single active site, that site."""
    sites = list(Site.objects.filter(active=True).select_related("interface"))
    for name in names:
        wanted = name.strip().upper()
        if not wanted:
            continue
        for site in sites:
            interface = getattr(site, "interface", None) or SiteInterface(site=site)
            if wanted in interface.names():
                return site
    return sites[0] if len(sites) == 1 else None


def hl7_moment(text: str, zone: ZoneInfo) -> datetime | None:
    """DTM ``YYYYMMDDHHMM[SS[.S+]][+/-ZZZZ]`` as an aware time; without an offset, the site's local time
    (HL7 v2.5.1 2.A.22: the sender's zone; a site's systems share its zone). None when it is not a real moment."""
    text = text.strip()
    offset = None
    for sign in ("+", "-"):
        if sign in text[8:]:
            cut = text.rindex(sign)
            text, tz = text[:cut], text[cut + 1 :]
            if len(tz) != 4 or not tz.isdigit():
                return None
            minutes = int(tz[:2]) * 60 + int(tz[2:])
            offset = timedelta(minutes=minutes if sign == "+" else -minutes)
            break
    digits = text.split(".")[0]
    if len(digits) < 12 or not digits.isdigit():
        return None  # a booking or a sample needs at least the minute
    digits = digits.ljust(14, "0")[:14]
    try:
        return datetime(
            int(digits[:4]),
            int(digits[4:6]),
            int(digits[6:8]),
            int(digits[8:10]),
            int(digits[10:12]),
            int(digits[12:14]),
            tzinfo=zone if offset is None else timezone(offset),
        )
    except ValueError:
        return None
