"""PDF/A-2b copies of rendered .docx documents through headless LibreOffice.

Each conversion runs ``soffice`` in its own temporary directory with its own user profile
(``-env:UserInstallation``), so parallel conversions (several workers, several processes)
never share LibreOffice's profile lock. LibreOffice is optional: ``pdfa_available()`` says
whether it is installed and ``convert_to_pdfa`` raises ``PdfConversionUnavailable`` when not.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

# PDF/A-2b: SelectPdfVersion 2 (1 = PDF/A-1, 3 = PDF/A-3). JSON filter options need LO >= 7.4.
PDFA2_FILTER = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'
PDF_CONTENT_TYPE = "application/pdf"
_CANDIDATES = ("soffice", "libreoffice")


class PdfConversionError(RuntimeError):
    """LibreOffice ran but did not produce a PDF."""


class PdfConversionUnavailable(PdfConversionError):
    """LibreOffice (soffice) is not installed or not on PATH."""


def find_soffice() -> str | None:
    """Path of the LibreOffice binary (``IOP_SOFFICE`` overrides the PATH lookup)."""
    override = os.environ.get("IOP_SOFFICE")
    if override:
        return shutil.which(override)
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def pdfa_available() -> bool:
    """True when soffice/libreoffice can be found."""
    return find_soffice() is not None


def convert_to_pdfa(docx_bytes: bytes, timeout: float = 60) -> bytes:
    """Convert a .docx to PDF/A-2b and return the PDF bytes."""
    soffice = find_soffice()
    if soffice is None:
        raise PdfConversionUnavailable(
            "PDF/A conversion needs LibreOffice: install it (Debian: "
            "apt-get install libreoffice-writer-nogui) or set IOP_SOFFICE"
        )
    if not docx_bytes.startswith(b"PK\x03\x04"):
        # LibreOffice would happily "convert" arbitrary bytes as plain text.
        raise PdfConversionError("not a .docx document (expected a zip package)")
    with tempfile.TemporaryDirectory(prefix="iop-pdfa-") as tmp:
        work = Path(tmp)
        source = work / "document.docx"
        source.write_bytes(docx_bytes)
        outdir = work / "out"
        outdir.mkdir()
        profile = (work / "profile").as_uri()
        cmd = [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--invisible",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            "--norestore",
            "--convert-to",
            PDFA2_FILTER,
            "--outdir",
            str(outdir),
            str(source),
        ]
        env = {**os.environ, "HOME": str(work), "SAL_USE_VCLPLUGIN": "svp"}
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=work,
            env=env,
            start_new_session=True,  # own process group: a timeout kills soffice.bin too
        )
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.communicate()
            raise PdfConversionError(f"LibreOffice did not finish within {timeout} s") from None
        result = outdir / "document.pdf"
        if proc.returncode != 0 or not result.is_file():
            detail = (stderr or stdout or b"").decode("utf-8", "replace").strip()[-500:]
            raise PdfConversionError(
                f"LibreOffice conversion failed (exit {proc.returncode}): {detail}"
            )
        pdf = result.read_bytes()
    if not pdf.startswith(b"%PDF-"):
        raise PdfConversionError("LibreOffice output is not a PDF")
    return pdf


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
