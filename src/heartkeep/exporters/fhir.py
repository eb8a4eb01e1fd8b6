"""FHIR R4 export: one heart-rate `Observation` per sample, as NDJSON (bulk data) or a Bundle.

Each resource follows the R4 vital-signs heart-rate profile: status `final`, category
`vital-signs`, code LOINC 8867-4, `valueQuantity` in UCUM `/min`, `effectiveDateTime` in local
time with the offset the source reported (so the instant and the wearer's clock both survive).
The subject is the heartkeep account as a logical reference (an identifier, not a Patient
resource we do not have).  NDJSON is the FHIR Bulk Data format and streams without limit; the
Bundle (`type: collection`) is written incrementally too, one entry at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson

from heartkeep.exporters.timefmt import columns, iso_local
from heartkeep.model import Account, Sample
from heartkeep.output_target import Writable
from heartkeep.timeline import format_rfc3339

LOINC_HEART_RATE = "8867-4"
PROFILE = "http://hl7.org/fhir/StructureDefinition/heartrate"


def _resources(batches: Iterable[Sequence[Sample]], account: Account) -> Iterator[bytes]:
    tag = hashlib.sha256(account.key.encode()).hexdigest()[:12]
    subject = {
        "identifier": {"system": "urn:heartkeep:account", "value": account.key},
        "display": account.display_name or account.key,
    }
    category = [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "vital-signs",
                    "display": "Vital Signs",
                }
            ],
            "text": "Vital Signs",
        }
    ]
    code = {
        "coding": [
            {"system": "http://loinc.org", "code": LOINC_HEART_RATE, "display": "Heart rate"}
        ],
        "text": "Heart rate",
    }
    meta = {"profile": [PROFILE]}
    for batch in batches:
        instant, bpm, offset = columns(batch)
        for when, i, value in zip(
            iso_local(instant, offset), instant.tolist(), bpm.tolist(), strict=True
        ):
            resource: dict[str, Any] = {
                "resourceType": "Observation",
                "id": f"hr-{tag}-{i}",
                "meta": meta,
                "status": "final",
                "category": category,
                "code": code,
                "subject": subject,
                "effectiveDateTime": when,
                "valueQuantity": {
                    "value": value,
                    "unit": "beats/minute",
                    "system": "http://unitsofmeasure.org",
                    "code": "/min",
                },
            }
            yield orjson.dumps(resource)


def write_fhir(
    batches: Iterable[Sequence[Sample]],
    handle: Writable,
    *,
    account: Account,
    bundle: bool = False,
    created_s: int,
) -> None:
    """NDJSON of Observations, or (with `bundle`) one `Bundle` of type `collection`."""
    if not bundle:
        for resource in _resources(batches, account):
            handle.write(resource)
            handle.write(b"\n")
        return
    head = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": format_rfc3339(created_s),
    }
    handle.write(orjson.dumps(head)[:-1])
    handle.write(b',"entry":[')
    for index, resource in enumerate(_resources(batches, account)):
        if index:
            handle.write(b",")
        handle.write(b'{"resource":')
        handle.write(resource)
        handle.write(b"}")
    handle.write(b"]}\n")
