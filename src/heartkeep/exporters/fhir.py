"""FHIR R4 export: one heart-rate `Observation` per sample, as NDJSON (bulk data) or a Bundle.

Each resource follows the R4 vital-signs heart-rate profile: status `final`, category
`vital-signs`, code LOINC 8867-4, `valueQuantity` in UCUM `/min`, `effectiveDateTime` in local
time with the offset the source reported (so the instant and the wearer's clock both survive).
The subject is the heartkeep account as a logical reference (an identifier, not a Patient
resource we do not have).  NDJSON is the FHIR Bulk Data format and streams without limit; the
Bundle (`type: collection`) is written incrementally too, one batch of entries at a time.

Only three things differ between two Observations: the id, the time and the value.  So orjson
writes one resource with markers in their places, and SQLite fills each sample's three values
into those fixed pieces (`sqltext.py`): the bytes are the same as one `orjson.dumps` per sample,
at a fraction of the cost, and no Python object is built per sample.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from heartkeep.exporters.jsonl import LOCAL_TIME_SQL
from heartkeep.exporters.source import SampleSource
from heartkeep.exporters.sqltext import json_pieces
from heartkeep.model import Account
from heartkeep.output_target import Writable
from heartkeep.timeline import format_rfc3339

LOINC_HEART_RATE = "8867-4"
PROFILE = "http://hl7.org/fhir/StructureDefinition/heartrate"


_MARKS = {"id": b'"@@hk-id@@"', "when": b'"@@hk-when@@"', "value": b'"@@hk-value@@"'}


def _template(account: Account) -> dict[str, str]:
    """One Observation as JSON, cut where the per-sample values go: `p0` id `p1` time `p2`
    value `p3`.  orjson writes the fixed parts (and escapes the account's names) exactly as it
    did when it wrote each resource whole."""
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
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": _MARKS["id"].decode().strip('"'),
        "meta": {"profile": [PROFILE]},
        "status": "final",
        "category": category,
        "code": code,
        "subject": subject,
        "effectiveDateTime": _MARKS["when"].decode().strip('"'),
        "valueQuantity": {
            "value": _MARKS["value"].decode().strip('"'),
            "unit": "beats/minute",
            "system": "http://unitsofmeasure.org",
            "code": "/min",
        },
    }
    pieces = json_pieces(orjson.dumps(resource), list(_MARKS.values()))
    parameters = {f"p{i}": piece for i, piece in enumerate(pieces)}
    parameters["tag"] = f"hr-{tag}-"
    return parameters


# The resource around the three per-sample values, formatted by SQLite (`sqltext.py`).
LINE_SQL = (
    """:p0 || '"' || :tag || instant || '"' || :p1 || '"' || """
    f"""{LOCAL_TIME_SQL} || '"' || :p2 || bpm || :p3"""
)


def write_fhir(
    source: SampleSource, handle: Writable, *, bundle: bool = False, created_s: int
) -> None:
    """NDJSON of Observations, or (with `bundle`) one `Bundle` of type `collection`."""
    parameters = _template(source.account)
    if not bundle:
        for chunk in source.text(LINE_SQL, parameters=parameters):
            handle.write(chunk.text)
        return
    head = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": format_rfc3339(created_s),
    }
    handle.write(orjson.dumps(head)[:-1])
    handle.write(b',"entry":[')
    entry = """'{"resource":' || """ + LINE_SQL + " || '}'"
    for index, chunk in enumerate(
        source.text(entry, separator=",", terminator="", parameters=parameters)
    ):
        if index:
            handle.write(b",")
        handle.write(chunk.text)
    handle.write(b"]}\n")
