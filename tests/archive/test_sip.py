"""The SIP of a fully closed demo case: eark-validator passes it, and it holds every document with its stored sha256."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
from archive_world import Closed
from factories import World, case as make_case
from fixtures.eark import validate
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.archive import sip
from service.cases.stages import Stage
from service.diarium.models import DiaryEntry
from service.documents.models import Document
from storage.filesystem import FilesystemStore

NS = {"mets": sip.METS_NS, "csip": sip.CSIP_NS, "xlink": sip.XLINK_NS, "premis": sip.PREMIS_NS, "erms": sip.ERMS_NS}


def _unzip(package: sip.Package, dest: Path) -> Path:
    with zipfile.ZipFile(package.file) as zf:
        zf.extractall(dest)
    return dest / package.objid


def test_sip_of_closed_case_passes_eark_validator_and_holds_every_document(closed: Closed, db: Session, store: FilesystemStore,
                                                                          tmp_path: Path) -> None:
    case = closed.case
    docs = list(db.scalars(select(Document).where(Document.case_id == case.id)))
    generated = [d for d in docs if d.template_name and d.content_type.endswith("wordprocessingml.document")]
    assert len(docs) >= 6 and len(generated) >= 4  # attachment, agreement, signed copy, four decisions
    with sip.build_sip(db, store, case, submitter=closed.world.registrar) as package:
        report = validate(package.file)
        assert report["passes"], "\n".join(f"{e['rule_id']}: {e['message']} @ {e['location']}" for e in report["other_errors"])
        assert (report["structure"], report["schema"], report["package_type"]) == ("WellFormed", "VALID", "SIP")
        assert hashlib.sha256(package.file.read_bytes()).hexdigest() == package.sha256
        root = _unzip(package, tmp_path)

    mets = etree.parse(str(root / "METS.xml")).getroot()
    assert mets.get("PROFILE") == "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml" and mets.get("OBJID") == root.name
    assert mets.get(f"{{{sip.CSIP_NS}}}CONTENTINFORMATIONTYPE") == "OTHER"
    assert mets.get(f"{{{sip.CSIP_NS}}}OTHERCONTENTINFORMATIONTYPE") == "FGS Ärendehantering"
    assert mets.get("TYPE") == "Other" and mets.get(f"{{{sip.CSIP_NS}}}OTHERTYPE") == "Ärendeakt"
    assert mets.find("mets:metsHdr", NS).get(f"{{{sip.CSIP_NS}}}OAISPACKAGETYPE") == "SIP"

    # Every stored document is in rep1 with the stored bytes: the METS checksum, the file and the row agree.
    rep1 = etree.parse(str(root / "representations/rep1/METS.xml")).getroot()
    listed = {f.find("mets:FLocat", NS).get(f"{{{sip.XLINK_NS}}}href"): f for f in rep1.iterfind(".//mets:file", NS)}
    assert len(listed) == len(docs)
    for doc in docs:
        href = f"data/{sip._data_name(doc)}"
        entry = listed[href]
        data = (root / "representations/rep1" / href).read_bytes()
        stored = store.get(doc.storage_key, doc.storage_version_id)
        assert hashlib.sha256(data).hexdigest() == doc.sha256 == entry.get("CHECKSUM"), doc.filename
        assert entry.get("CHECKSUMTYPE") == "SHA-256" and int(entry.get("SIZE")) == doc.size == len(data)
        assert stored == data

    # Every generated .docx has its PDF/A-2b in rep2, checksummed.
    rep2 = etree.parse(str(root / "representations/rep2/METS.xml")).getroot()
    pdfs = {f.find("mets:FLocat", NS).get(f"{{{sip.XLINK_NS}}}href"): f.get("CHECKSUM") for f in rep2.iterfind(".//mets:file", NS)}
    assert len(pdfs) == len(generated)
    for href, checksum in pdfs.items():
        data = (root / "representations/rep2" / href).read_bytes()
        assert data.startswith(b"%PDF-") and b"pdfaid:part" in data and hashlib.sha256(data).hexdigest() == checksum

    # The package METS checksums its metadata files; PREMIS has every file's fixity.
    for md in mets.iterfind(".//mets:mdRef", NS):
        data = (root / md.get(f"{{{sip.XLINK_NS}}}href")).read_bytes()
        assert hashlib.sha256(data).hexdigest() == md.get("CHECKSUM")
    premis = etree.parse(str(root / "metadata/preservation/premis.xml")).getroot()
    digests = {el.text for el in premis.iterfind(".//premis:messageDigest", NS)}
    assert {d.sha256 for d in docs} <= digests and set(pdfs.values()) <= digests
    assert len(premis.findall(".//premis:relationship", NS)) == len(generated)  # each PDF/A names its source

    # FGS Ärendehantering: the case, its parties, decisions, every diary entry with its sekretess, every document.
    erms = etree.parse(str(root / "metadata/descriptive/arende.xml")).getroot()
    arende = erms.find(".//erms:ArkivobjektArende", NS)
    assert arende.findtext("erms:ArkivobjektID", namespaces=NS) == case.diarienummer
    assert arende.findtext("erms:Arendemening", namespaces=NS) == "Mötesplats Solrosen"
    assert arende.findtext("erms:StatusArande", namespaces=NS) == "Avslutat" and arende.findtext("erms:Avslutat", namespaces=NS)
    parties = {a.findtext("erms:Roll", namespaces=NS): a for a in arende.iterfind("erms:Agent", NS)}
    assert parties["Motpart"].findtext("erms:Organisationsnummer", namespaces=NS) == closed.world.org.orgnr
    assert parties["Handläggare"].findtext("erms:Namn", namespaces=NS) == closed.world.officer.full_name
    decisions = arende.findall("erms:EgetElement[@Namn='Beslut']", NS)
    assert len(decisions) == 4
    entries = list(db.scalars(select(DiaryEntry).where(DiaryEntry.case_id == case.id)))
    handlingar = arende.findall(".//erms:ArkivobjektHandling", NS)
    ids = {h.findtext("erms:ArkivobjektID", namespaces=NS): h for h in handlingar}
    for e in entries:
        assert f"{case.diarienummer}-{e.number}" in ids
    secret = ids[f"{case.diarienummer}-{closed.confidential_entry.number}"]
    assert secret.find("erms:Restriktion", NS).get("Typ") == "Sekretess"
    assert secret.findtext("erms:Restriktion/erms:Paragrafnummer", namespaces=NS) == "19 kap. 3 § OSL"
    assert sum(h.find("erms:Restriktion", NS) is not None for h in handlingar) == 1
    attached = {b.get("Checksumma") for b in erms.iterfind(".//erms:Bilaga", NS)}
    assert {d.sha256 for d in docs} <= attached


def test_validator_refuses_a_package_whose_checksum_is_wrong(closed: Closed, db: Session, store: FilesystemStore, tmp_path: Path) -> None:
    """The validation can fail: a METS that lists a file it does not hold is refused."""
    with sip.build_sip(db, store, closed.case) as package:
        root = _unzip(package, tmp_path)
    mets = root / "METS.xml"
    mets.write_bytes(mets.read_bytes().replace(b'OAISPACKAGETYPE="SIP"', b'OAISPACKAGETYPE="NONSENSE"'))
    report = validate(root)
    assert not report["passes"] and report["other_errors"]


@pytest.mark.parametrize("stage", [Stage.FOLLOW_UP, Stage.DRAFT, Stage.AGREEMENT])
def test_an_open_case_has_no_sip(db: Session, store: FilesystemStore, stage: Stage) -> None:
    w = World(db)
    c = make_case(db, w.org, w.dep, stage=stage)
    with pytest.raises(sip.CaseNotClosed) as exc, sip.build_sip(db, store, c):
        pass
    assert exc.value.status_code == 409 and "inte avslutat" in str(exc.value.detail)


def test_a_rejected_case_without_documents_is_a_valid_sip(db: Session, store: FilesystemStore, tmp_path: Path) -> None:
    w = World(db)
    c = make_case(db, w.org, w.dep, stage=Stage.REJECTED)
    with sip.build_sip(db, store, c) as package:
        report = validate(package.file)
        names = zipfile.ZipFile(package.file).namelist()
    assert report["passes"], report["other_errors"]
    assert f"{package.objid}/representations/rep1/data/" in names
    assert not any("/rep2/" in n for n in names)


def test_a_document_whose_bytes_changed_in_storage_stops_the_package(closed: Closed, db: Session, store: FilesystemStore) -> None:
    doc = db.scalar(select(Document).where(Document.case_id == closed.case.id).order_by(Document.id).limit(1))
    doc.sha256 = "0" * 64  # the row no longer matches the stored object
    with pytest.raises(Exception) as exc, sip.build_sip(db, store, closed.case):
        pass
    assert getattr(exc.value, "status_code", None) in (409, 500)
    db.rollback()



def test_a_gallrad_document_is_left_out_and_its_entry_says_so(closed: Closed, db: Session, store: FilesystemStore, tmp_path: Path) -> None:
    """Gallring (service/retention) deletes the object and marks the row and its entry: the package holds the rest."""
    from service.db import utcnow

    attachment = db.scalar(select(Document).where(Document.case_id == closed.case.id, Document.kind == "attachment"))
    entry = db.scalar(select(DiaryEntry).where(DiaryEntry.document_id == attachment.id))
    attachment.disposed_at = entry.disposed_at = utcnow()
    store.delete(attachment.storage_key, attachment.storage_version_id)
    db.flush()
    with sip.build_sip(db, store, closed.case) as package:
        root = _unzip(package, tmp_path)
    rep1 = etree.parse(str(root / "representations/rep1/METS.xml")).getroot()
    assert attachment.sha256 not in {f.get("CHECKSUM") for f in rep1.iterfind(".//mets:file", NS)}
    erms = etree.parse(str(root / "metadata/descriptive/arende.xml")).getroot()
    handling = next(h for h in erms.iterfind(".//erms:ArkivobjektHandling", NS)
                    if h.findtext("erms:ArkivobjektID", namespaces=NS) == f"{closed.case.diarienummer}-{entry.number}")
    assert handling.find("erms:EgetElement[@Namn='Gallrad']", NS) is not None and handling.find("erms:Bilaga", NS) is None
