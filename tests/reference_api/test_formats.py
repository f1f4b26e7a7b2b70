"""The building blocks: GUIDs that decode back, Dutch identifiers that pass their real checks,
PDFs whose cross-reference table points at their objects, SEPA files whose sums add up."""

from __future__ import annotations

import random
import re
import uuid
import xml.etree.ElementTree as ET

import httpx
import pytest

from termgate.reference_api.dutch import bsn, bsn_is_valid, dutch_iban, iban_is_valid
from termgate.reference_api.files import pdf
from termgate.reference_api.guids import GuidCodec, Kind

SEPA = "{urn:iso:std:iso:20022:tech:xsd:pain.001.001.03}"


@pytest.mark.parametrize("numbers", [(0, 0, 0), (99_999, 0, 0), (12, 345_678, 9),
                                     (2**40 - 1, 2**36 - 1, 2**36 - 1)])  # fmt: skip
def test_a_guid_is_a_version_4_uuid_that_decodes_to_what_it_names(
    numbers: tuple[int, int, int],
) -> None:
    codec = GuidCodec(20260401)
    text = codec.encode(Kind.RECORD, *numbers)
    assert uuid.UUID(text).version == 4
    assert str(uuid.UUID(text)) == text
    decoded = codec.decode(text)
    assert decoded is not None
    assert (decoded.kind, decoded.a, decoded.b, decoded.c) == (Kind.RECORD, *numbers)
    assert GuidCodec(20260402).encode(Kind.RECORD, *numbers) != text


def test_guids_not_made_here_rarely_decode_to_an_employee() -> None:
    codec = GuidCodec(1)
    rng = random.Random(5)
    found = [codec.decode(str(uuid.UUID(int=rng.getrandbits(128), version=4))) for _ in range(2000)]
    employees = [d for d in found if d is not None and d.kind == Kind.EMPLOYEE and d.a < 100_000]
    assert employees == []
    assert codec.decode("not-a-guid") is None


def test_dutch_identifiers_pass_their_checks() -> None:
    rng = random.Random(3)
    assert bsn_is_valid("111222333")
    assert not bsn_is_valid("111222334")
    assert iban_is_valid("NL91ABNA0417164300")
    assert not iban_is_valid("NL91ABNA0417164301")
    for _ in range(200):
        assert bsn_is_valid(bsn(rng))
        iban = dutch_iban(rng)
        assert re.fullmatch(r"NL\d{2}[A-Z]{4}\d{10}", iban)
        assert iban_is_valid(iban)


def test_a_pdf_cross_reference_table_points_at_its_objects() -> None:
    body = pdf("Loonstrook", ["Salaris EUR 3.120,00", "Loonheffing (wit) € (met haakjes)"])
    assert body.startswith(b"%PDF-1.4")
    assert body.endswith(b"%%EOF\n")
    start = int(body.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert body[start:].startswith(b"xref\n0 6\n")
    offsets = re.findall(rb"(\d{10}) 00000 n ", body[start:])
    assert len(offsets) == 5
    for number, offset in enumerate(offsets, start=1):
        assert body[int(offset) :].startswith(f"{number} 0 obj".encode())


def test_a_salary_sepa_file_adds_up(client: httpx.Client) -> None:
    company = client.get("/api/companies").json()["data"][0]["companyId"]
    run = client.get(f"/api/companies/{company}/runs").json()["data"][0]["payrollRunId"]
    task = client.get(f"/api/companies/{company}/runs/{run}/sepa", params={"year": 2026}).json()
    root = ET.fromstring(client.get(f"/api/documents/{task['taskId']}").content)
    amounts = [float(a.text or 0) for a in root.iter(f"{SEPA}InstdAmt")]
    header = root.find(f"{SEPA}CstmrCdtTrfInitn/{SEPA}GrpHdr")
    assert header is not None
    assert int(header.findtext(f"{SEPA}NbOfTxs") or 0) == len(amounts) > 0
    assert float(header.findtext(f"{SEPA}CtrlSum") or 0) == pytest.approx(sum(amounts))
    assert all(iban_is_valid(i.text or "") for i in root.iter(f"{SEPA}IBAN"))
