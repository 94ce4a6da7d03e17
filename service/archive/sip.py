"""One closed case as an E-ARK SIP (CSIP 2.1.0 + SIP 2.1.0, which together are FGS Paketstruktur 2.0), zipped.

Contract: ``build_sip(session, store, case)`` is a context manager yielding a ``Package``: a zip in a temporary file
(removed when the block ends) with its name, size and sha256, and every file it holds with its sha256. Nothing is
written to the database or the store. The zip holds one folder named after the package's OBJID:

    METS.xml                                   package METS: metsHdr (agents), dmdSec, amdSec, fileSec, structMap
    metadata/descriptive/arende.xml            the case and its handlingar after FGS Ärendehantering (FGS-ERMS)
    metadata/preservation/premis.xml           PREMIS 3: every file with its fixity, the conversions, the agents
    representations/rep1/                      the documents exactly as stored (the sha256 of each is the stored one)
        METS.xml, data/…, metadata/preservation/premis.xml
    representations/rep2/                      PDF/A-2b of every generated .docx (LibreOffice, documents.pdfa)
        METS.xml, data/…, metadata/preservation/premis.xml

Every file is in a METS fileSec with its SHA-256, size and MIME type. Raises ``CaseNotClosed`` (409) for a case
that is not closed, rejected or withdrawn; storage and LibreOffice failures come up as the documents module's
errors (503, or 409/500 for a missing or corrupt object): nothing half-built is ever returned.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import User
from service.cases.closure import closures
from service.cases.models import Case
from service.cases.stages import SWEDISH as STAGE_NAMES, TERMINAL
from service.config import Settings, get_settings
from service.diarium.models import DiaryEntry
from service.diarium.service import reference
from service.documents import service as documents
from service.documents.models import Document
from service.documents.pdfa import PDF_CONTENT_TYPE
from service.documents.rendering import DOCX_CONTENT_TYPE
from service.errors import Conflict
from service.labels import DOCUMENT_KINDS, REVIEW_DECIDED
from service.reviews.models import Review, ReviewStatus
from storage.base import ObjectStore

METS_NS = "http://www.loc.gov/METS/"
CSIP_NS = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
SIP_NS = "https://DILCIS.eu/XML/METS/SIPExtensionMETS"
XLINK_NS = "http://www.w3.org/1999/xlink"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
PREMIS_NS = "http://www.loc.gov/premis/v3"
ERMS_NS = "http://xml.ra.se/e-arkiv/FGS-ERMS"
NSMAP = {"mets": METS_NS, "csip": CSIP_NS, "sip": SIP_NS, "xlink": XLINK_NS, "xsi": XSI_NS}

# FGS Paketstruktur 2.0 is E-ARK CSIP 2.1.0 with E-ARK SIP 2.1.0: the SIP profile is the package's profile. The
# content is a case file (ärendeakt) described by FGS Ärendehantering, which is neither in CSIP's content category
# vocabulary nor its content information types: both are OTHER, named in OTHERTYPE / OTHERCONTENTINFORMATIONTYPE.
PROFILE = "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
CONTENT_TYPE = "Other"
OTHER_TYPE = "Ärendeakt"
CONTENT_INFORMATION_TYPE = "OTHER"
OTHER_CONTENT_INFORMATION_TYPE = "FGS Ärendehantering"
SOFTWARE = "IOP Partnerskap"
OSL = "Offentlighets- och sekretesslag (2009:400)"
# PRONOM ids of the formats the service stores (uploads are checked by magic bytes, documents.ALLOWED_UPLOADS).
PRONOM = {
    "application/pdf": ("Acrobat PDF/A - Portable Document Format", "2b", "fmt/477"),
    DOCX_CONTENT_TYPE: ("Microsoft Word for Windows", "2007 onwards", "fmt/412"),
    "application/vnd.oasis.opendocument.text": ("OpenDocument Text", "1.2", "fmt/290"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("Microsoft Excel for Windows", "2007 onwards", "fmt/214"),
    "image/png": ("Portable Network Graphics", "1.0", "fmt/11"),
    "image/jpeg": ("JPEG File Interchange Format", "1.02", "fmt/44"),
}
CHUNK = 256 * 1024
# The XML schemas of the package's METS (METS 1.12, XLink, the DILCIS CSIP and SIP extensions), CSIPSTR15 / CSIP113.
SCHEMAS = Path(__file__).resolve().parent / "schemas"


class CaseNotClosed(Conflict):
    """Only a closed (avslutat, avslaget or återkallat) case goes to the e-archive."""

    code = "case-not-closed"
    title = "Ärendet är inte avslutat / The case is not closed"


@dataclass
class PackedFile:
    """A file in the package: its path inside the package folder, size, sha256 and MIME type."""

    path: str
    size: int
    sha256: str
    mimetype: str
    created: datetime
    document: Document | None = None
    source: Document | None = None  # a PDF/A rendition names the stored document it was made from


@dataclass
class Package:
    """A built SIP: the zip (in a temporary file), its name, size and sha256, and the files it holds."""

    objid: str
    name: str
    file: Path
    size: int
    sha256: str
    files: list[PackedFile] = field(default_factory=list)

    def open(self):  # noqa: ANN201 - a binary file object
        """The zip for reading."""
        return self.file.open("rb")


def closed_at(session: Session, case: Case) -> datetime:
    """When the case was closed (cases.closure, the stage history); the case row's stage date if none is recorded."""
    closed = closures()
    return session.scalar(select(closed.c.closed_at).where(closed.c.case_id == case.id)) or case.stage_entered_at


def ensure_closed(case: Case) -> None:
    """409 unless the case is in a terminal stage."""
    if case.stage not in TERMINAL:
        raise CaseNotClosed(f"Ärende {case.diarienummer or case.id} är inte avslutat (skede: {STAGE_NAMES[case.stage]}); bara avslutade "
                            f"ärenden kan e-arkiveras / case {case.diarienummer or case.id} is not closed (stage {case.stage})",
                            case_id=case.id, current_stage=case.stage, allowed_stages=sorted(s.value for s in TERMINAL))


def _software_version() -> str:
    try:
        return version("iop-partnerskap")
    except PackageNotFoundError:
        return "0"


def _iso(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _data_name(doc: Document) -> str:
    """A plain ASCII file name, unique in the package (the original name is in the metadata)."""
    plain = unicodedata.normalize("NFKD", doc.filename).encode("ascii", "ignore").decode("ascii")
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", plain).strip("._") or "dokument"
    return f"{doc.id:06d}-{plain[:100]}"


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _write(path: Path, chunks: Iterator[bytes]) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _xml_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@dataclass
class _Facts:
    """What the package describes, read once."""

    case: Case
    closed: datetime
    officer: User | None
    documents: list[Document]
    entries: list[DiaryEntry]
    reviews: list[Review]
    users: dict[int, User]


def _facts(session: Session, case: Case) -> _Facts:
    # A gallrad document (service/retention) has no object any more: its diary entry still says that it existed.
    docs = list(session.scalars(select(Document).where(Document.case_id == case.id, Document.disposed_at.is_(None)).order_by(Document.id)))
    entries = list(session.scalars(select(DiaryEntry).where(DiaryEntry.case_id == case.id).order_by(DiaryEntry.number)))
    reviews = list(session.scalars(select(Review).where(Review.case_id == case.id, Review.decided_at.is_not(None)).order_by(Review.id)))
    ids = {r.decided_by_id for r in reviews} | {case.officer_id}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_([i for i in ids if i])))}
    return _Facts(case=case, closed=closed_at(session, case), officer=users.get(case.officer_id), documents=docs, entries=entries,
                  reviews=reviews, users=users)


def _pdfa_sources(docs: list[Document]) -> list[Document]:
    """The generated .docx documents: the ones LibreOffice may convert (never an uploaded file, documents.pdfa_bytes)."""
    return [d for d in docs if d.content_type == DOCX_CONTENT_TYPE and d.template_name is not None]


@contextmanager
def build_sip(session: Session, store: ObjectStore, case: Case, *, settings: Settings | None = None, submitter: User | None = None,
              now: datetime | None = None, pdfa: Callable[[ObjectStore, Document, Settings], bytes] | None = None) -> Iterator[Package]:
    """Build the case's SIP as a zip in a temporary file (see the module's contract); ``pdfa`` converts a .docx."""
    ensure_closed(case)
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    convert = pdfa or documents.pdfa_bytes
    facts = _facts(session, case)
    objid = f"uuid-{uuid.uuid4()}"
    tmp = Path(tempfile.mkdtemp(prefix="iop-sip-"))
    try:
        root = tmp / objid
        rep1: list[PackedFile] = []
        for doc in facts.documents:
            path = f"representations/rep1/data/{_data_name(doc)}"
            size, sha = _write(root / path, documents.open_content(store, doc))
            if sha != doc.sha256:  # open_content checks the key's bytes; this is the copy in the package
                raise documents.StoredContentCorrupt(f"Dokument {doc.id} stämmer inte med sin kontrollsumma / document {doc.id} fails its checksum")
            rep1.append(PackedFile(path=path, size=size, sha256=sha, mimetype=doc.content_type, created=doc.created_at, document=doc))
        rep2: list[PackedFile] = []
        for doc in _pdfa_sources(facts.documents):
            pdf = convert(store, doc, settings)
            path = f"representations/rep2/data/{PurePosixPath(_data_name(doc)).stem}.pdf"
            size, sha = _write(root / path, iter([pdf]))
            rep2.append(PackedFile(path=path, size=size, sha256=sha, mimetype=PDF_CONTENT_TYPE, created=now, source=doc))
        by_doc = {f.document.id: f for f in rep1}
        pdf_by_doc = {f.source.id: f for f in rep2}
        reps = {"rep1": ("Dokumenten som de lagrats (original)", rep1)}
        if rep2:  # a case without generated documents has no PDF/A representation
            reps["rep2"] = ("PDF/A-2b av upprättade dokument", rep2)
        (root / "representations/rep1/data").mkdir(parents=True, exist_ok=True)
        rep_mets: dict[str, PackedFile] = {}
        for rep, (label, files) in reps.items():
            premis_path = f"representations/{rep}/metadata/preservation/premis.xml"
            premis = _premis(facts, files, now, settings, prefix=f"representations/{rep}/")
            size, sha = _write(root / premis_path, iter([_xml_bytes(premis)]))
            premis_file = PackedFile(path=premis_path, size=size, sha256=sha, mimetype="text/xml", created=now)
            mets = _rep_mets(facts, objid, rep, label, files, premis_file, now)
            mets_path = f"representations/{rep}/METS.xml"
            size, sha = _write(root / mets_path, iter([_xml_bytes(mets)]))
            rep_mets[rep] = PackedFile(path=mets_path, size=size, sha256=sha, mimetype="text/xml", created=now)
        schemas = []
        for xsd in sorted(SCHEMAS.glob("*.xsd")):
            path = f"schemas/{xsd.name}"
            size, sha = _write(root / path, iter([xsd.read_bytes()]))
            schemas.append(PackedFile(path=path, size=size, sha256=sha, mimetype="text/xml", created=now))
        path = "documentation/leveransbeskrivning.txt"
        size, sha = _write(root / path, iter([_description(facts, objid, rep1, rep2, now).encode("utf-8")]))
        docs_files = [PackedFile(path=path, size=size, sha256=sha, mimetype="text/plain", created=now)]
        descriptive = _erms(facts, by_doc, pdf_by_doc, settings)
        size, sha = _write(root / "metadata/descriptive/arende.xml", iter([_xml_bytes(descriptive)]))
        desc_file = PackedFile(path="metadata/descriptive/arende.xml", size=size, sha256=sha, mimetype="text/xml", created=now)
        premis = _premis(facts, rep1 + rep2, now, settings, prefix="")
        size, sha = _write(root / "metadata/preservation/premis.xml", iter([_xml_bytes(premis)]))
        pres_file = PackedFile(path="metadata/preservation/premis.xml", size=size, sha256=sha, mimetype="text/xml", created=now)
        mets = _package_mets(facts, objid, rep_mets, desc_file, pres_file, docs_files, schemas, now, submitter)
        size, sha = _write(root / "METS.xml", iter([_xml_bytes(mets)]))
        package_files = [PackedFile(path="METS.xml", size=size, sha256=sha, mimetype="text/xml", created=now), desc_file, pres_file,
                         *docs_files, *schemas, *rep_mets.values(), *rep1, *rep2]
        zip_path = tmp / f"{objid}.zip"
        with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for dirpath, _dirs, names in sorted(os.walk(root)):
                if not names:  # an empty folder the structure requires (data/ of a case without documents)
                    zf.writestr(f"{objid}/{Path(dirpath).relative_to(root).as_posix()}/", b"")
                for name in sorted(names):
                    full = Path(dirpath) / name
                    zf.write(full, f"{objid}/{full.relative_to(root).as_posix()}")
        digest = hashlib.sha256()
        with zip_path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
        yield Package(objid=objid, name=f"{objid}.zip", file=zip_path, size=zip_path.stat().st_size, sha256=digest.hexdigest(),
                      files=package_files)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---- METS


def _mets_root(objid: str, label: str) -> etree._Element:
    mets = etree.Element(_q(METS_NS, "mets"), nsmap=NSMAP)
    mets.set("OBJID", objid)
    mets.set("LABEL", label)
    mets.set("TYPE", CONTENT_TYPE)
    mets.set(_q(CSIP_NS, "OTHERTYPE"), OTHER_TYPE)
    mets.set(_q(CSIP_NS, "CONTENTINFORMATIONTYPE"), CONTENT_INFORMATION_TYPE)
    mets.set(_q(CSIP_NS, "OTHERCONTENTINFORMATIONTYPE"), OTHER_CONTENT_INFORMATION_TYPE)
    mets.set("PROFILE", PROFILE)
    mets.set(_q(XSI_NS, "schemaLocation"), "http://www.loc.gov/METS/ http://www.loc.gov/standards/mets/mets.xsd "
                                           "http://www.w3.org/1999/xlink http://www.loc.gov/standards/mets/xlink.xsd")
    return mets


def _header(mets: etree._Element, facts: _Facts, now: datetime, submitter: User | None) -> None:
    dep = facts.case.department
    hdr = etree.SubElement(mets, _q(METS_NS, "metsHdr"), CREATEDATE=_iso(now), LASTMODDATE=_iso(now), RECORDSTATUS="NEW")
    hdr.set(_q(CSIP_NS, "OAISPACKAGETYPE"), "SIP")
    software = etree.SubElement(hdr, _q(METS_NS, "agent"), ROLE="CREATOR", TYPE="OTHER", OTHERTYPE="SOFTWARE")
    etree.SubElement(software, _q(METS_NS, "name")).text = SOFTWARE
    etree.SubElement(software, _q(METS_NS, "note"), {_q(CSIP_NS, "NOTETYPE"): "SOFTWARE VERSION"}).text = _software_version()
    # FGS: the archive creator (arkivbildare) is the municipality, identified by its organisation number.
    creator = etree.SubElement(hdr, _q(METS_NS, "agent"), ROLE="ARCHIVIST", TYPE="ORGANIZATION")
    etree.SubElement(creator, _q(METS_NS, "name")).text = f"{dep.municipality}, {dep.name}"
    if dep.municipality_orgnr:
        etree.SubElement(creator, _q(METS_NS, "note"), {_q(CSIP_NS, "NOTETYPE"): "IDENTIFICATIONCODE"}).text = dep.municipality_orgnr
    if submitter is not None:
        person = etree.SubElement(hdr, _q(METS_NS, "agent"), ROLE="OTHER", OTHERROLE="SUBMITTER", TYPE="INDIVIDUAL")
        etree.SubElement(person, _q(METS_NS, "name")).text = submitter.full_name
    if facts.case.diarienummer:
        etree.SubElement(hdr, _q(METS_NS, "altRecordID"), TYPE="REFERENCECODE").text = facts.case.diarienummer


def _file(grp: etree._Element, f: PackedFile, href: str, fid: str) -> etree._Element:
    el = etree.SubElement(grp, _q(METS_NS, "file"), ID=fid, MIMETYPE=f.mimetype, SIZE=str(f.size), CREATED=_iso(f.created),
                          CHECKSUM=f.sha256, CHECKSUMTYPE="SHA-256")
    fmt = PRONOM.get(f.mimetype)
    if fmt is not None:
        el.set(_q(SIP_NS, "FILEFORMATNAME"), fmt[0])
        el.set(_q(SIP_NS, "FILEFORMATVERSION"), fmt[1])
        el.set(_q(SIP_NS, "FILEFORMATREGISTRY"), "PRONOM")
        el.set(_q(SIP_NS, "FILEFORMATKEY"), fmt[2])
    etree.SubElement(el, _q(METS_NS, "FLocat"), {"LOCTYPE": "URL", _q(XLINK_NS, "type"): "simple", _q(XLINK_NS, "href"): href})
    return el


def _md_ref(parent: etree._Element, f: PackedFile, href: str, mdtype: str, other: str | None = None) -> None:
    attrs = {"LOCTYPE": "URL", _q(XLINK_NS, "type"): "simple", _q(XLINK_NS, "href"): href, "MDTYPE": mdtype, "MIMETYPE": f.mimetype,
             "SIZE": str(f.size), "CREATED": _iso(f.created), "CHECKSUM": f.sha256, "CHECKSUMTYPE": "SHA-256"}
    if other:
        attrs["OTHERMDTYPE"] = other
    etree.SubElement(parent, _q(METS_NS, "mdRef"), attrs)


def _content_type(grp: etree._Element) -> None:
    # CSIP62/63 as eark-validator checks them: every file group names the content information type, OTHER with its name.
    grp.set(_q(CSIP_NS, "CONTENTINFORMATIONTYPE"), CONTENT_INFORMATION_TYPE)
    grp.set(_q(CSIP_NS, "OTHERCONTENTINFORMATIONTYPE"), OTHER_CONTENT_INFORMATION_TYPE)


def _package_mets(facts: _Facts, objid: str, reps: dict[str, PackedFile], desc: PackedFile, pres: PackedFile, docs: list[PackedFile],
                  schemas: list[PackedFile], now: datetime, submitter: User | None) -> etree._Element:
    case = facts.case
    mets = _mets_root(objid, f"{case.diarienummer or case.id} {case.title}")
    _header(mets, facts, now, submitter)
    dmd = etree.SubElement(mets, _q(METS_NS, "dmdSec"), ID="dmd-arende", CREATED=_iso(now), STATUS="CURRENT")
    _md_ref(dmd, desc, desc.path, "OTHER", OTHER_CONTENT_INFORMATION_TYPE)
    amd = etree.SubElement(mets, _q(METS_NS, "amdSec"))
    digiprov = etree.SubElement(amd, _q(METS_NS, "digiprovMD"), ID="digiprov-premis", CREATED=_iso(now), STATUS="CURRENT")
    _md_ref(digiprov, pres, pres.path, "PREMIS")
    file_sec = etree.SubElement(mets, _q(METS_NS, "fileSec"), ID="filesec")
    for use, files in (("Documentation", docs), ("Schemas", schemas)):
        grp = etree.SubElement(file_sec, _q(METS_NS, "fileGrp"), ID=f"grp-{use.lower()}", USE=use)
        _content_type(grp)
        for n, f in enumerate(files, start=1):
            _file(grp, f, f.path, f"file-{use.lower()}-{n}")
    for rep, f in reps.items():
        grp = etree.SubElement(file_sec, _q(METS_NS, "fileGrp"), ID=f"grp-{rep}", USE=f"Representations/{rep}")
        _content_type(grp)
        _file(grp, f, f.path, f"file-{rep}-mets")
    smap = etree.SubElement(mets, _q(METS_NS, "structMap"), ID="structmap-csip", TYPE="PHYSICAL", LABEL="CSIP")
    top = etree.SubElement(smap, _q(METS_NS, "div"), ID="div-package", LABEL=objid)
    etree.SubElement(top, _q(METS_NS, "div"), ID="div-metadata", LABEL="Metadata", DMDID="dmd-arende", ADMID="digiprov-premis")
    for use, files in (("Documentation", docs), ("Schemas", schemas)):
        div = etree.SubElement(top, _q(METS_NS, "div"), ID=f"div-{use.lower()}", LABEL=use)
        for n, _f in enumerate(files, start=1):
            etree.SubElement(div, _q(METS_NS, "fptr"), FILEID=f"file-{use.lower()}-{n}")
    representations = etree.SubElement(top, _q(METS_NS, "div"), ID="div-representations", LABEL="Representations")
    for rep in reps:
        etree.SubElement(representations, _q(METS_NS, "fptr"), FILEID=f"grp-{rep}")
    for rep, f in reps.items():
        div = etree.SubElement(representations, _q(METS_NS, "div"), ID=f"div-{rep}", LABEL=f"Representations/{rep}")
        etree.SubElement(div, _q(METS_NS, "mptr"), {"LOCTYPE": "URL", _q(XLINK_NS, "type"): "simple", _q(XLINK_NS, "href"): f.path,
                                                     _q(XLINK_NS, "title"): f"grp-{rep}"})
    return mets


def _rep_mets(facts: _Facts, objid: str, rep: str, label: str, files: list[PackedFile], premis: PackedFile,
              now: datetime) -> etree._Element:
    prefix = f"representations/{rep}/"
    mets = _mets_root(f"{objid}-{rep}", label)
    _header(mets, facts, now, None)
    amd = etree.SubElement(mets, _q(METS_NS, "amdSec"))
    digiprov = etree.SubElement(amd, _q(METS_NS, "digiprovMD"), ID=f"digiprov-{rep}", CREATED=_iso(now), STATUS="CURRENT")
    _md_ref(digiprov, premis, premis.path.removeprefix(prefix), "PREMIS")
    file_sec = etree.SubElement(mets, _q(METS_NS, "fileSec"), ID=f"filesec-{rep}")
    grp = etree.SubElement(file_sec, _q(METS_NS, "fileGrp"), ID=f"grp-{rep}-data", USE="Data")
    for n, f in enumerate(files, start=1):
        _file(grp, f, f.path.removeprefix(prefix), f"file-{rep}-{n}")
    smap = etree.SubElement(mets, _q(METS_NS, "structMap"), ID=f"structmap-{rep}", TYPE="PHYSICAL", LABEL="CSIP")
    top = etree.SubElement(smap, _q(METS_NS, "div"), ID=f"div-{rep}", LABEL=f"{objid}-{rep}")
    etree.SubElement(top, _q(METS_NS, "div"), ID=f"div-{rep}-metadata", LABEL="Metadata", ADMID=f"digiprov-{rep}")
    data = etree.SubElement(top, _q(METS_NS, "div"), ID=f"div-{rep}-data", LABEL="Data")
    for n, _f in enumerate(files, start=1):
        etree.SubElement(data, _q(METS_NS, "fptr"), FILEID=f"file-{rep}-{n}")
    return mets


def _description(facts: _Facts, objid: str, rep1: list[PackedFile], rep2: list[PackedFile], now: datetime) -> str:
    """The package's documentation: what it holds, in Swedish, for whoever opens it in the e-archive."""
    case = facts.case
    return "\n".join([
        f"Informationspaket {objid}",
        f"Ärende: {case.diarienummer or case.id} {case.title}",
        f"Organisation: {case.organisation.name} ({case.organisation.orgnr})",
        f"Ansvarig enhet: {case.department.name}, {case.department.municipality}",
        f"Skede: {STAGE_NAMES[case.stage]}, avslutat {_iso(facts.closed)}",
        f"Uttaget: {_iso(now)} ur {SOFTWARE} {_software_version()}",
        "",
        "Struktur (E-ARK CSIP 2.1.0 och SIP 2.1.0, FGS Paketstruktur 2.0):",
        "  METS.xml                             paketets METS med kontrollsummor (SHA-256) för varje fil",
        "  metadata/descriptive/arende.xml      ärendet och dess handlingar enligt FGS Ärendehantering",
        "  metadata/preservation/premis.xml     PREMIS: filer, kontrollsummor, konverteringar",
        f"  representations/rep1/data/           {len(rep1)} handlingar som de lagrats (original)",
        f"  representations/rep2/data/           {len(rep2)} upprättade handlingar som PDF/A-2b" if rep2 else "",
        "  schemas/                             XML-scheman för METS, XLink och E-ARK-tilläggen",
        "",
        "Sekretessmarkerade handlingar anges med Restriktion (Typ=Sekretess) och hänvisning till OSL i arende.xml.",
        "",
    ])


# ---- PREMIS


def _premis(facts: _Facts, files: list[PackedFile], now: datetime, settings: Settings, *, prefix: str) -> etree._Element:
    p = {"premis": PREMIS_NS}
    root = etree.Element(_q(PREMIS_NS, "premis"), nsmap=p, version="3.0")

    def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
        el = etree.SubElement(parent, _q(PREMIS_NS, tag), attrs)
        if text is not None:
            el.text = text
        return el

    for f in files:
        obj = sub(root, "object", **{_q(XSI_NS, "type"): "premis:file"})
        ident = sub(obj, "objectIdentifier")
        sub(ident, "objectIdentifierType", "local")
        sub(ident, "objectIdentifierValue", f.path.removeprefix(prefix))
        chars = sub(obj, "objectCharacteristics")
        fixity = sub(chars, "fixity")
        sub(fixity, "messageDigestAlgorithm", "SHA-256")
        sub(fixity, "messageDigest", f.sha256)
        sub(fixity, "messageDigestOriginator", SOFTWARE)
        sub(chars, "size", str(f.size))
        fmt = sub(chars, "format")
        designation = sub(fmt, "formatDesignation")
        sub(designation, "formatName", PRONOM.get(f.mimetype, (f.mimetype,))[0])
        if f.mimetype in PRONOM:
            registry = sub(fmt, "formatRegistry")
            sub(registry, "formatRegistryName", "PRONOM")
            sub(registry, "formatRegistryKey", PRONOM[f.mimetype][2])
        if f.document is not None:
            sub(obj, "originalName", f.document.original_filename or f.document.filename)
        if f.source is not None:
            rel = sub(obj, "relationship")
            sub(rel, "relationshipType", "derivation")
            sub(rel, "relationshipSubType", "has source")
            related = sub(rel, "relatedObjectIdentifier")
            sub(related, "relatedObjectIdentifierType", "local")
            sub(related, "relatedObjectIdentifierValue", f"documents/{f.source.id}")
    agent_id = "software-iop-partnerskap"
    for n, f in enumerate(files, start=1):
        event = sub(root, "event")
        eid = sub(event, "eventIdentifier")
        sub(eid, "eventIdentifierType", "local")
        sub(eid, "eventIdentifierValue", f"event-{n}")
        if f.source is not None:
            sub(event, "eventType", "migration")
            sub(event, "eventDateTime", _iso(f.created))
            detail = sub(event, "eventDetailInformation")
            sub(detail, "eventDetail", "PDF/A-2b framställd ur det upprättade dokumentet med LibreOffice")
        else:
            sub(event, "eventType", "message digest calculation")
            sub(event, "eventDateTime", _iso(f.created))
            detail = sub(event, "eventDetailInformation")
            sub(detail, "eventDetail", "SHA-256 beräknad när handlingen lagrades; kontrollerad vid uttaget")
        outcome = sub(event, "eventOutcomeInformation")
        sub(outcome, "eventOutcome", "success")
        link = sub(event, "linkingAgentIdentifier")
        sub(link, "linkingAgentIdentifierType", "local")
        sub(link, "linkingAgentIdentifierValue", agent_id)
        obj = sub(event, "linkingObjectIdentifier")
        sub(obj, "linkingObjectIdentifierType", "local")
        sub(obj, "linkingObjectIdentifierValue", f.path.removeprefix(prefix))
    agent = sub(root, "agent")
    aid = sub(agent, "agentIdentifier")
    sub(aid, "agentIdentifierType", "local")
    sub(aid, "agentIdentifierValue", agent_id)
    sub(agent, "agentName", SOFTWARE)
    sub(agent, "agentType", "software")
    sub(agent, "agentVersion", _software_version())
    return root


# ---- FGS Ärendehantering


def _erms(facts: _Facts, by_doc: dict[int, PackedFile], pdf_by_doc: dict[int, PackedFile], settings: Settings) -> etree._Element:
    case, org, dep = facts.case, facts.case.organisation, facts.case.department
    root = etree.Element(_q(ERMS_NS, "Leveransobjekt"), nsmap={None: ERMS_NS})

    def sub(parent: etree._Element, tag: str, text: object = None, **attrs: str) -> etree._Element:
        el = etree.SubElement(parent, _q(ERMS_NS, tag), attrs)
        if text is not None:
            el.text = str(text)
        return el

    def own(parent: etree._Element, name: str, value: object, datatype: str = "string") -> None:
        el = sub(parent, "EgetElement", Namn=name, DataTyp=datatype)
        sub(el, "Varde", value)

    creator = sub(root, "Arkivbildarstruktur")
    ab = sub(creator, "Arkivbildare")
    sub(ab, "Namn", dep.municipality)
    if dep.municipality_orgnr:
        sub(ab, "Organisationsnummer", dep.municipality_orgnr)
    cases = sub(root, "ArkivobjektListaArenden")
    ar = sub(cases, "ArkivobjektArende", Systemidentifierare=f"iop-case-{case.id}")
    sub(ar, "ArkivobjektID", case.diarienummer or f"ärende {case.id}")
    sub(ar, "Arendemening", case.title)
    sub(ar, "ArendeTyp", "Idéburet offentligt partnerskap (IOP)")
    sub(ar, "StatusArande", STAGE_NAMES[case.stage])
    sub(ar, "Skapad", _iso(case.created_at))
    if case.submitted_at:
        sub(ar, "Inkommen", _iso(case.submitted_at))
    sub(ar, "Avslutat", _iso(facts.closed))
    if facts.officer is not None:
        a = sub(ar, "Agent")
        sub(a, "Roll", "Handläggare")
        sub(a, "Namn", facts.officer.full_name)
        sub(a, "Organisationsnamn", dep.name)
    a = sub(ar, "Agent")
    sub(a, "Roll", "Motpart")
    sub(a, "Namn", org.name)
    sub(a, "Organisationsnummer", org.orgnr)
    a = sub(ar, "Agent")
    sub(a, "Roll", "Ansvarig enhet")
    sub(a, "Namn", dep.name)
    if case.period_start and case.period_end:
        own(ar, "Partnerskapsperiod", f"{case.period_start.isoformat()}/{case.period_end.isoformat()}")
    if case.close_reason:
        own(ar, "Avslutsorsak", case.close_reason)
    for review in facts.reviews:
        if review.status not in (ReviewStatus.APPROVED, ReviewStatus.REJECTED, ReviewStatus.CHANGES_REQUESTED):
            continue
        beslut = sub(ar, "EgetElement", Namn="Beslut", DataTyp="group")
        sub(beslut, "Varde", REVIEW_DECIDED.get(review.status, str(review.status)))
        own(beslut, "Beslutsdatum", _iso(review.decided_at), "dateTime")
        own(beslut, "Fran", STAGE_NAMES.get(review.from_stage, str(review.from_stage)))
        own(beslut, "Till", STAGE_NAMES.get(review.to_stage, str(review.to_stage)))
        decider = facts.users.get(review.decided_by_id)
        if decider is not None:
            own(beslut, "Beslutsfattare", decider.full_name)
        if review.motivation:
            own(beslut, "Motivering", review.motivation)
    handlingar = sub(ar, "ArkivobjektListaHandlingar")
    registered = set()
    for entry in facts.entries:
        h = sub(handlingar, "ArkivobjektHandling", Systemidentifierare=f"iop-diary-{entry.id}")
        sub(h, "ArkivobjektID", reference(case, entry))
        sub(h, "Lopnummer", entry.number)
        sub(h, "Handlingstyp", entry.document_type)
        sub(h, "Rubrik", entry.description)
        sub(h, "StatusHandling", {"inkommande": "Inkommen", "utgående": "Expedierad"}.get(entry.direction, "Upprättad"))
        date_tag = {"inkommande": "Inkommen", "utgående": "Expedierad"}.get(entry.direction, "Upprattad")
        sub(h, date_tag, entry.entry_date.isoformat())
        if entry.counterpart:
            a = sub(h, "Agent")
            sub(a, "Roll", "Avsändare" if entry.direction == "inkommande" else "Mottagare")
            sub(a, "Namn", entry.counterpart)
        if entry.confidential:
            r = sub(h, "Restriktion", Typ="Sekretess")
            sub(r, "ForordningNamn", OSL)
            sub(r, "Paragrafnummer", entry.osl_reference or "")
        if entry.internal:
            own(h, "Intern", "true", "boolean")
        if entry.disposed_at is not None:
            own(h, "Gallrad", _iso(entry.disposed_at), "dateTime")
        if entry.document_id is not None:
            registered.add(entry.document_id)
            _attachments(sub, h, entry.document_id, by_doc, pdf_by_doc)
        if entry.review_id is not None:
            own(h, "Beslutsreferens", f"review-{entry.review_id}")
    # PDF/A, signed and sealed copies are the same handling in another form: each under the entry of the document it
    # comes from when known (derived_from is in the audit event, not the row), else as a copy of its own.
    extra = [f for f in by_doc.values() if f.document.id not in registered]
    if extra:
        h = sub(handlingar, "ArkivobjektHandling", Systemidentifierare=f"iop-case-{case.id}-kopior")
        sub(h, "ArkivobjektID", f"{case.diarienummer or case.id}-kopior")
        sub(h, "Rubrik", "Kopior i andra format (PDF/A, undertecknade och förseglade exemplar) av ärendets handlingar")
        for f in extra:
            _attachments(sub, h, f.document.id, by_doc, pdf_by_doc)
    return root


def _attachments(sub: Callable, h: etree._Element, doc_id: int, by_doc: dict[int, PackedFile], pdf_by_doc: dict[int, PackedFile]) -> None:
    f = by_doc.get(doc_id)
    if f is None:
        return
    doc = f.document
    label = DOCUMENT_KINDS.get(doc.kind, str(doc.kind))
    sub(h, "Bilaga", Namn=doc.original_filename or doc.filename, Beskrivning=f"{label}, version {doc.version}", Lank=f.path,
        Storlek=str(f.size), Checksumma=f.sha256, ChecksummaMetod="SHA-256")
    pdf = pdf_by_doc.get(doc_id)
    if pdf is not None:
        sub(h, "Bilaga", Namn=PurePosixPath(pdf.path).name, Beskrivning=f"{label}, version {doc.version}, PDF/A-2b", Lank=pdf.path,
            Storlek=str(pdf.size), Checksumma=pdf.sha256, ChecksummaMetod="SHA-256")
