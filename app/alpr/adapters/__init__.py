"""Camera adapters: the payloads of the ALPR cameras departments already own, made lawful reads.

One module per vendor format, one registry (:data:`ADAPTERS`, by the format's name in
``POST /api/v1/cameras/<format>`` and ``devices create --format``). Each adapter keeps only
what 425.4.1(a) allows — plate, time, location, pictures — plus the confidence and the key
that steer processing, counts every other field by name, and hands the reads to the one
ingest path (:mod:`app.alpr.adapters.receive`). SPEC.md in the shared camera-payloads folder
lists every vendor field and whether it is kept.
"""

from __future__ import annotations

from app.alpr.adapters import axis, genetec, openalpr, platerecognizer, verkada
from app.alpr.adapters.base import Adapter

#: Every format, by its name in the route and on the device's registration.
ADAPTERS: dict[str, Adapter] = {
    adapter.name: adapter
    for adapter in (
        openalpr.ADAPTER,
        platerecognizer.ADAPTER,
        axis.ADAPTER,
        genetec.ADAPTER,
        verkada.ADAPTER,
    )
}
