"""(b) Generate + store an agreement vs. a raw docxtpl render of the same template + a raw S3 put.

Both go to the same versioned bucket on a real SeaweedFS S3 server (started like the test
fixture: every listener on 127.0.0.1, telemetry off, killed by pid). Iterations alternate
between the two so machine noise hits both alike.

- service: `service.documents.service.generate(session, store, user, case, AGREEMENT)` and a
  commit: build the context from the database (agreement terms, signatures), sandboxed render,
  sha256, S3 put with metadata, Document row, audit event.
- raw: `DocxTemplate(path).render(context, Environment(autoescape=True))`, `save()`, and
  `Minio.put_object()` of the bytes (the context dict is prepared once, outside the timing).
"""

from __future__ import annotations

import io
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.common import summarise_ms


def _terms(org_name: str, orgnr: str, funding: int) -> dict[str, Any]:
    half = funding // 2
    return {
        "public_party": {"name": "Benchstads kommun", "orgnr": "212000-0142", "signatory_name": "Eva Ek", "signatory_role": "Förvaltningschef"},
        "organisation_party": {"name": org_name, "orgnr": orgnr, "signatory_name": "Olle Ordförande", "signatory_role": "Ordförande"},
        "background": "Behovsanalys gjord tillsammans under dialogen. " * 5,
        "purpose": "Minska ofrivillig ensamhet bland äldre i stadsdelen.",
        "goals": ["200 deltagare per år", "Tre träffar i veckan", "Minst 40 aktiva volontärer"],
        "target_group": "Äldre över 70 år och deras anhöriga.",
        "activities": "Träffpunkt, telefonkedja, utflykter, studiecirklar och gemensamma måltider.",
        "contributions": [
            {"party": "public", "kind": "money", "description": "Verksamhetsbidrag", "amount_sek": funding},
            {"party": "public", "kind": "in_kind", "description": "Lokal i Norrby centrum", "extent": "120 kvm, tre dagar i veckan"},
            {"party": "organisation", "kind": "in_kind", "description": "Ideella timmar", "extent": "800 timmar/år"},
            {"party": "organisation", "kind": "money", "description": "Insamlade medel", "amount_sek": 50_000},
        ],
        "funding_amount_sek": funding,
        "instalments": [{"due_on": "2027-01-15", "amount_sek": half}, {"due_on": "2027-07-15", "amount_sek": funding - half}],
        "period_start": "2027-01-01",
        "period_end": "2028-12-31",
        "extension_terms": "Kan förlängas ett år i taget efter gemensam utvärdering.",
        "notice_period_months": 6,
        "governance": "Styrgrupp med två representanter per part, möts kvartalsvis.",
        "followup_schedule": [{"due_on": "2028-01-31", "description": "Årsrapport"},
                              {"due_on": "2029-02-28", "description": "Slutrapport", "is_final": True}],
    }


def prepare_case(session: Session) -> tuple[int, int]:
    """An agreement-stage case with stored terms, not yet signed (a signed agreement is frozen and never drawn up
    again); returns (case id, officer id)."""
    from service.agreements.models import Agreement
    from service.agreements.schemas import AgreementTerms
    from service.cases.models import Case
    from service.cases.stages import Stage

    has_terms = select(Agreement.id).where(Agreement.case_id == Case.id).exists()
    case = session.scalars(select(Case).where(Case.stage == Stage.AGREEMENT, Case.officer_id.is_not(None), ~has_terms)
                           .order_by(Case.id.desc()).limit(1)).one()
    terms = AgreementTerms.model_validate(_terms(case.organisation.name, case.organisation.orgnr, case.requested_amount_sek or 400_000))
    session.add(Agreement(case_id=case.id, terms=terms.model_dump(mode="json"), funding_amount_sek=terms.funding_amount_sek,
                          period_start=terms.period_start, period_end=terms.period_end))
    session.flush()
    return case.id, int(case.officer_id)


def run(*, iterations: int, today: date | None = None) -> dict[str, Any]:
    """Start SeaweedFS, then time `iterations` service generations and raw render+put pairs."""
    from docxtpl import DocxTemplate
    from jinja2 import Environment

    from service.auth.models import User
    from service.cases.models import Case
    from service.db import get_sessionmaker
    from service.documents import builders
    from service.documents.models import DocumentKind
    from service.documents.rendering import FILTERS, render, template_path
    from service.documents.service import generate
    from storage.s3 import S3Store

    try:
        from tests.fixtures.s3 import start_seaweed
    except ImportError as exc:  # pragma: no cover
        raise RuntimeError("bench needs the test extras (pip install -e '.[test]') for SeaweedFS") from exc

    today = today or date.today()
    factory = get_sessionmaker()
    with factory() as s, s.begin():
        case_id, officer_id = prepare_case(s)
    base = Path(tempfile.mkdtemp(prefix="iop-bench-weed-"))
    server = start_seaweed(base)
    try:
        bucket = "iop-bench-documents"
        store = S3Store(server.endpoint, server.access_key, server.secret_key, bucket)
        raw_client = server.client()
        with factory() as s:
            case = s.get(Case, case_id)
            ctx_model = builders.agreement(s, case, today)
        raw_context = ctx_model.model_dump(mode="python")
        tpl = template_path(type(ctx_model).template_name)
        raw_env = Environment(autoescape=True)
        raw_env.filters.update(FILTERS)

        def service_once() -> tuple[float, int]:
            t0 = time.perf_counter()
            with factory() as s, s.begin():
                doc = generate(s, store, s.get(User, officer_id), s.get(Case, case_id), DocumentKind.AGREEMENT, today)
                size = doc.size
            return time.perf_counter() - t0, size

        def raw_once(n: int) -> tuple[float, int]:
            t0 = time.perf_counter()
            doc = DocxTemplate(str(tpl))
            doc.render(raw_context, jinja_env=raw_env, autoescape=True)
            buf = io.BytesIO()
            doc.save(buf)
            size = buf.tell()
            buf.seek(0)
            raw_client.put_object(bucket, f"raw/{case_id}/agreement-{n}.docx", buf, size,
                                  content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
            return time.perf_counter() - t0, size

        # Warm-up: bucket creation/versioning, template cache, imports, connection pools.
        service_once()
        raw_once(-1)
        svc, raw, sizes = [], [], {}
        for n in range(iterations):
            t, sizes["service_bytes"] = service_once()
            svc.append(t)
            t, sizes["raw_bytes"] = raw_once(n)
            raw.append(t)
        # Where the service's time goes (same inputs, separately timed).
        parts: dict[str, list[float]] = {"build_context": [], "render": [], "s3_put": []}
        rendered = render(ctx_model)
        for n in range(max(3, iterations // 3)):
            with factory() as s:
                t0 = time.perf_counter()
                builders.agreement(s, s.get(Case, case_id), today)
                parts["build_context"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            render(ctx_model)
            parts["render"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            store.put(f"parts/{n}.docx", rendered.content, length=rendered.size, content_type=rendered.content_type)
            parts["s3_put"].append(time.perf_counter() - t0)
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
    service_stats, raw_stats = summarise_ms(svc), summarise_ms(raw)
    return {
        "iterations": iterations,
        "case_id": case_id,
        "template": tpl.name,
        **sizes,
        "service_generate_store": service_stats,
        "raw_render_put": raw_stats,
        "service_parts_p50_ms": {k: round(statistics.median(v) * 1000, 3) for k, v in parts.items()},
        "ratio_p50": round(service_stats["p50_ms"] / raw_stats["p50_ms"], 3),
        "ratio_mean": round(service_stats["mean_ms"] / raw_stats["mean_ms"], 3),
    }
