"""Say in plain words why a landing file is not the UTF-8 CSV the contract asks for.

The contract (quality/contract/extracts.yml, ``landing:``) says every extract is a UTF-8 CSV. Files that
are something else make DuckDB's ``read_csv`` fail in ways that do not name the cause: a GBK file gives one
"not valid UTF-8" reject per line, an .xlsx saved as .csv yields zip bytes as column names, a 5 MB field of
Chinese text raises "Invalid unicode ... in segment statistics update" without a row. The functions here turn
such a file into ONE problem per file (or one per over-long line) that names what the file is and what to do.

API (all pure: they only read the file, never change anything):

* ``FileProblem`` - one problem: ``problem`` (what is wrong), ``what_to_do``, ``line_number`` (physical line,
  1 = header; None = the file as a whole) and an optional ``detail`` (evidence: bytes, line text, sizes).
  ``problem`` and ``what_to_do`` are sentence fragments without a final full stop, so callers can compose
  them; ``describe()`` renders one line for an operator.
* ``sniff_format(head)`` - from the first bytes of a file only (``SNIFF_BYTES`` of them, or the whole file if
  shorter): an empty file, a ZIP (Excel .xlsx, Word, OpenDocument, plain zip), a legacy Office 97-2003 file
  (.xls), UTF-16/UTF-32 text (with a byte order mark, or recognised by its NUL bytes), PDF, gzip/bzip2/xz/
  7z/RAR/zstd archives, HTML or XML (what some systems export as "Excel"), other binary data. None when the
  start looks like text. Cheap enough to call for every new file before reading it; ``sniff_file(path)``
  reads the head and calls it.
* ``diagnose_text(path, max_line_bytes)`` - for a file DuckDB could not read cleanly: first
  ``sniff_format`` (a binary file gets that one problem and nothing else); then one streaming pass checks
  the whole file is UTF-8 and measures every physical line; a file that is not UTF-8 gets one problem that
  names GBK/GB18030 when that is what it is, or an unknown encoding otherwise, with the first line that is
  not UTF-8; and each physical line longer than ``max_line_bytes`` (the first ``MAX_LONG_LINES`` of them)
  gets a problem with its line number and size. An empty list means the bytes are a readable UTF-8 text
  file with no over-long line: the problem is elsewhere (quoting, fields per line).

Lines are physical lines (split at line feeds, or at carriage returns in a file that has no line feed at
all, like old Mac exports), not CSV records: a quoted value may span lines. Line sizes do not count the
line break (CR LF or LF), which is how DuckDB measures them for its ``max_line_size``
(``DEFAULT_MAX_LINE_BYTES`` = 2,000,000, DuckDB's default).

How GBK/GB18030 is recognised: the file is named GBK/GB18030 only if the WHOLE file (after a UTF-8 byte
order mark, if any) decodes strictly as GB18030, the text contains at least one CJK character, and at least
half of its non-ASCII characters are in GB2312 (the common simplified Chinese characters and full-width
punctuation; sampled over the first ``_GB_SAMPLE_CHARS`` non-ASCII characters). The last test matters
because GB18030 decodes almost any byte sequence: Latin-1 "Müller" decodes to "M黮ler", Shift-JIS and Big5
decode to rare characters and private-use code points; real GBK text from a Chinese CRM is almost all
GB2312. A file that fails any test is "not UTF-8 (unknown encoding)". charset-normalizer (installed as a
dependency of requests) was tried and not used: on short files it names GBK text "cp949" (Korean) - e.g. a
row with the name 王喆 - and it only guesses from a sample, whereas the direct check above is exact about
what it claims (the whole file decodes), needs no extra dependency, and is enough to separate the one
encoding these users actually send (GBK, what Excel on Chinese Windows writes as "CSV") from the rest.
The remaining mix-up is EUC-KR (Korean), which decodes as valid GB2312; it does not occur in these extracts.

Speed: files are read in 1 MiB blocks with incremental decoders, so memory stays constant; the GB18030 check
is a second pass run only for files that are not UTF-8. A 100 MB file takes well under a second per pass.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

SNIFF_BYTES = 8192  # how much of a file sniff_format wants to see
BLOCK_BYTES = 1 << 20  # read size for the streaming checks
DEFAULT_MAX_LINE_BYTES = 2_000_000  # DuckDB read_csv's default max_line_size
MAX_LONG_LINES = 5  # over-long lines reported per file; the last one reported says how many more there are
_GB_SAMPLE_CHARS = 65_536  # non-ASCII characters sampled for the GB2312 share
_SHOW_CHARS = 60  # characters of a line shown in a detail
_SHOW_BYTES = 8  # bytes shown from the first position that is not UTF-8

_BOM_UTF8 = codecs.BOM_UTF8
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
# Bytes that do not occur in text: C0 controls except tab, LF, VT, FF, CR and ESC; and DEL.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])

_SAVE_AS_CSV_UTF8 = "Save As > 'CSV UTF-8 (Comma delimited) (*.csv)' (另存为 > CSV UTF-8(逗号分隔))"
_EXCEL_TO_CSV = f"open it in Excel and use {_SAVE_AS_CSV_UTF8}, or have the source system export CSV"


@dataclass(frozen=True)
class FileProblem:
    """Why one file (or one line of it) is not a readable UTF-8 CSV, and what to do about it."""

    problem: str  # what is wrong, in plain words (no final full stop)
    what_to_do: str  # how to fix the delivery (no final full stop)
    line_number: int | None = None  # physical line (1 = header); None = the file as a whole
    detail: str | None = None  # evidence: the bytes, the line as text, sizes

    def describe(self) -> str:
        """One line for an operator, e.g. "line 2: the line is ... (detail). What to do: ..."."""
        where = f"line {self.line_number}: " if self.line_number is not None else ""
        detail = f" ({self.detail})" if self.detail else ""
        return f"{where}{self.problem}{detail}. What to do: {self.what_to_do}."


# --------------------------------------------------------------------------- format from the first bytes


def sniff_file(path: Path) -> FileProblem | None:
    """``sniff_format`` of the file's first ``SNIFF_BYTES`` bytes."""
    with open(path, "rb") as f:
        return sniff_format(f.read(SNIFF_BYTES))


def sniff_format(head: bytes) -> FileProblem | None:
    """What the file is, when its first bytes show it is not a text CSV; None when it looks like text.

    ``head`` must be the first ``SNIFF_BYTES`` bytes of the file, or the whole file when it is shorter
    (so an empty ``head`` is an empty file). Text in another single- or double-byte encoding (GBK, Latin-1)
    looks like text here; ``diagnose_text`` tells those apart.
    """
    if not head:
        return _empty_file(None)
    if head == _BOM_UTF8:
        return _empty_file("it holds only a UTF-8 byte order mark, EF BB BF")
    for bom, name, codec in (
        (codecs.BOM_UTF32_LE, "UTF-32 little-endian", "utf-32-le"),
        (codecs.BOM_UTF32_BE, "UTF-32 big-endian", "utf-32-be"),
        (codecs.BOM_UTF16_LE, "UTF-16 little-endian", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "UTF-16 big-endian", "utf-16-be"),
    ):
        if head.startswith(bom):
            return _wide_text(head[len(bom) :], name, codec, bom=True)
    for magic, problem in _MAGIC:
        if head.startswith(magic):
            return problem(head) if callable(problem) else problem
    wide = _wide_without_bom(head)
    if wide is not None:
        return _wide_text(head, *wide, bom=False)
    markup = _markup(head.removeprefix(_BOM_UTF8).lstrip()[:1024].lower())
    if markup is not None:
        return markup
    control = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if control >= 4 and control * 10 >= len(head):  # text has none; a stray NUL is left to the reader
        return FileProblem(
            "the file is not a CSV: it holds binary data, not text",
            "check that the right file was delivered: the extract must be a UTF-8 CSV text file",
            detail=f"{control:,} of its first {len(head):,} bytes are control bytes such as NUL; "
            f"it starts with {head[:_SHOW_BYTES]!r}",
        )
    return None


def _empty_file(detail: str | None) -> FileProblem:
    return FileProblem(
        "the file is empty; even a file without rows needs the header line",
        "deliver the file with its header line (the contract's column names), even when it has no rows",
        detail=detail,
    )


def _wide_text(body: bytes, name: str, codec: str, bom: bool) -> FileProblem:
    """UTF-16 or UTF-32 text (body = the bytes after the BOM): say so, with the first line as text."""
    width = 4 if codec.startswith("utf-32") else 2
    text = body[: len(body) // width * width].decode(codec, errors="replace")
    first_line = text.splitlines()[0] if text else ""
    # iconv: with a BOM, "UTF-16" reads the byte order from it; without one, it must be named.
    iconv = codec[:6].upper() if bom else codec.replace("-le", "LE").replace("-be", "BE").upper()
    marker = "with a byte order mark" if bom else "without a byte order mark"
    problem = f"the file is not UTF-8: it is {name} text ({marker})"
    if codec == "utf-16-le" and bom:
        problem += ", what Excel writes as 'Unicode Text (*.txt)'"
    if "\t" in first_line and "," not in first_line:
        problem += ", and it is tab-delimited, not comma-delimited"
        what_to_do = (
            f"open it in Excel and use {_SAVE_AS_CSV_UTF8} (converting the encoding alone, e.g. with iconv, "
            "would leave the tabs)"
        )
    else:
        what_to_do = (
            f"re-export it as UTF-8 (Excel: {_SAVE_AS_CSV_UTF8}), or convert it: "
            f"iconv -f {iconv} -t UTF-8 in.csv > out.csv"
        )
    return FileProblem(problem, what_to_do, detail=f"the first line reads {_clip(first_line)!r}")


def _wide_without_bom(head: bytes) -> tuple[str, str] | None:
    """(name, Python codec) when NUL bytes sit where UTF-16/32 puts them for ASCII characters, else None."""
    if b"\x00" not in head or len(head) < 2:
        return None
    body = head[: len(head) // 4 * 4] if len(head) >= 4 else head[: len(head) // 2 * 2]

    def share_of_nul(start: int, step: int) -> float:
        part = body[start::step]
        return part.count(0) / len(part) if part else 0.0

    if len(body) >= 8:
        le32 = min(share_of_nul(i, 4) for i in (1, 2, 3))
        be32 = min(share_of_nul(i, 4) for i in (0, 1, 2))
        if le32 >= 0.9 and share_of_nul(0, 4) < 0.1:
            return "UTF-32 little-endian", "utf-32-le"
        if be32 >= 0.9 and share_of_nul(3, 4) < 0.1:
            return "UTF-32 big-endian", "utf-32-be"
    # ASCII characters (the header line, digits, dates, commas) are a NUL and a byte in UTF-16; a few NULs
    # in a short UTF-8 file (a stray NUL in a value) are not enough.
    even, odd = share_of_nul(0, 2), share_of_nul(1, 2)
    if body[1::2].count(0) >= 4 and odd >= 0.25 and even * 4 < odd:
        return "UTF-16 little-endian", "utf-16-le"
    if body[0::2].count(0) >= 4 and even >= 0.25 and odd * 4 < even:
        return "UTF-16 big-endian", "utf-16-be"
    return None


def _zip(head: bytes) -> FileProblem:
    """A ZIP archive: Office Open XML and OpenDocument files are ZIPs; tell them apart by member names."""
    office = [
        (b"xl/", "an Excel workbook (.xlsx) saved under a .csv name"),
        (b"word/", "a Word document (.docx)"),
        (b"ppt/", "a PowerPoint presentation (.pptx)"),
        (b"application/vnd.oasis.opendocument.spreadsheet", "an OpenDocument spreadsheet (.ods)"),
        (b"application/vnd.oasis.opendocument", "an OpenDocument file (.odt/.odp)"),
    ]
    for marker, what in office:
        if marker in head:
            spreadsheet = "sheet" in what or "workbook" in what
            what_to_do = _EXCEL_TO_CSV if spreadsheet else "deliver the CSV export instead of this document"
            return FileProblem(f"the file is not a CSV: it is {what}", what_to_do, detail=_starts(head))
    return FileProblem(
        "the file is not a CSV: it is a ZIP archive (possibly an Excel .xlsx workbook)",
        f"unzip it and deliver the CSV file inside, uncompressed; if it is a workbook, {_EXCEL_TO_CSV}",
        detail=_starts(head),
    )


def _starts(head: bytes) -> str:
    return f"it starts with {head[:_SHOW_BYTES]!r}"


def _archive(kind: str, tool: str) -> FileProblem:
    return FileProblem(
        f"the file is not a CSV: it is a compressed {kind} file",
        f"decompress it ({tool}) and deliver the CSV file inside, uncompressed",
    )


_MAGIC: list[tuple[bytes, FileProblem | Callable[[bytes], FileProblem]]] = [
    (b"PK\x03\x04", _zip),
    (b"PK\x05\x06", _zip),  # an empty zip
    (b"PK\x07\x08", _zip),  # a spanned zip
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        FileProblem(
            "the file is not a CSV: it is a legacy Excel 97-2003 workbook (.xls) or another "
            "Office 97-2003 file saved under a .csv name",
            _EXCEL_TO_CSV,
            detail="it starts with the Office 97-2003 signature D0 CF 11 E0 A1 B1 1A E1",
        ),
    ),
    (
        b"%PDF-",
        FileProblem(
            "the file is not a CSV: it is a PDF document", "deliver the CSV export instead of the PDF"
        ),
    ),
    (b"\x1f\x8b", _archive("gzip", "gunzip")),
    (b"\xfd7zXZ\x00", _archive("xz", "unxz")),
    (b"7z\xbc\xaf\x27\x1c", _archive("7-Zip", "7z x")),
    (b"Rar!\x1a\x07", _archive("RAR", "unrar x")),
    (b"\x28\xb5\x2f\xfd", _archive("zstd", "unzstd")),
    *[(b"BZh" + bytes([d]) + b"1AY&SY", _archive("bzip2", "bunzip2")) for d in b"123456789"],
]


def _markup(start: bytes) -> FileProblem | None:
    """HTML or XML (start = lower-cased beginning without BOM and leading white space), else None."""
    if not start.startswith(b"<"):
        return None
    if b"<html" in start or b"<!doctype html" in start or b"<table" in start:
        return FileProblem(
            "the file is not a CSV: it is a web page (HTML), which some systems export as 'Excel'",
            _EXCEL_TO_CSV,
            detail=f"it starts with {start[:_SHOW_BYTES]!r}",
        )
    if start.startswith(b"<?xml"):
        excel = b"excel.sheet" in start or b"urn:schemas-microsoft-com:office:spreadsheet" in start
        what = "an Excel 2003 XML spreadsheet" if excel else "an XML file"
        return FileProblem(
            f"the file is not a CSV: it is {what}",
            _EXCEL_TO_CSV if excel else "deliver the CSV export instead of the XML file",
            detail=f"it starts with {start[:_SHOW_BYTES]!r}",
        )
    return None


# --------------------------------------------------------------------------- encoding and line sizes


def diagnose_text(path: Path, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> list[FileProblem]:
    """The problems that keep DuckDB from reading ``path`` as a UTF-8 CSV; [] if none is found.

    A file ``sniff_format`` recognises gets that one problem. Otherwise: one problem if the file is not
    UTF-8 (at the first line that is not; named GBK/GB18030 only when the whole file is that, see the module
    docstring), then one problem per physical line longer than ``max_line_bytes`` bytes without its line
    break, for the first ``MAX_LONG_LINES`` such lines (the last says how many more there are).
    """
    with open(path, "rb") as f:
        sniffed = sniff_format(f.read(SNIFF_BYTES))
        if sniffed is not None:
            return [sniffed]
        f.seek(0)
        scan = _scan(f, max_line_bytes)
    problems = []
    if scan.bad_offset is not None:
        problems.append(_encoding_problem(path, scan))
    shown = scan.long_lines[:MAX_LONG_LINES]
    for i, (line, size, start) in enumerate(shown):
        more = scan.long_line_count - len(shown)
        start_text = _clip(_text(start.rstrip(b"\r"), "utf-8", complete=len(start) >= size))
        detail = f"the line starts {start_text!r}"
        megabytes = f" ({size / 1e6:.1f} MB)" if size >= 100_000 else ""
        if i == len(shown) - 1 and more:
            detail += f"; {more:,} more line(s) after this one are also over the limit"
        problems.append(
            FileProblem(
                f"the line is {size:,} bytes{megabytes} long, "
                f"more than the {max_line_bytes:,} bytes the CSV reader accepts in one line",
                "find the value that makes it this long (often a whole document, log or image pasted into "
                "one field) and have the source system shorten or leave out that value; if values this "
                "long are legitimate, the ingest's line size limit (DuckDB max_line_size) has to be raised",
                line_number=line,
                detail=detail,
            )
        )
    return problems


@dataclass
class _Scan:
    """What one pass over the file found."""

    bad_offset: int | None = None  # absolute offset of the first byte that is not UTF-8
    bad_line: int = 0
    bad_line_start: int = 0  # absolute offset where that line starts
    bad_column: int = 0  # 1-based byte position in that line
    bad_bytes: bytes = b""
    long_lines: list[tuple[int, int, bytes]] = field(default_factory=list)  # (line, size, first bytes)
    long_line_count: int = 0


def _scan(f: BinaryIO, max_line_bytes: int) -> _Scan:
    """One streaming pass: the first byte that is not UTF-8, and the lines longer than max_line_bytes."""
    scan = _Scan()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    sep = b"\n"
    offset = 0  # absolute offset of the current block
    line, line_start, line_size, line_head, line_ends_cr = 1, 0, 0, b"", False
    head_bytes = _SHOW_CHARS * 4

    def end_line(size: int, ends_cr: bool, start: bytes, number: int) -> None:
        size -= ends_cr and sep == b"\n"  # CR LF: the CR belongs to the line break
        if size > max_line_bytes:
            scan.long_line_count += 1
            if len(scan.long_lines) < MAX_LONG_LINES:
                scan.long_lines.append((number, size, start))

    while True:
        block = f.read(BLOCK_BYTES)
        final = not block
        if offset == 0 and b"\n" not in block and b"\r" in block[:-1]:
            sep = b"\r"  # old Mac line breaks (CR alone), which DuckDB reads too
        if scan.bad_offset is None:
            pending = len(decoder.getstate()[0])  # bytes of an unfinished character from the last block
            try:
                decoder.decode(block, final)
            except UnicodeDecodeError as error:
                _locate_bad_byte(scan, offset - pending + error.start, block, offset, line, line_start, sep)
                scan.bad_bytes = error.object[error.start : error.start + _SHOW_BYTES].split(sep)[0]
        if final:
            break
        parts = block.split(sep)
        if len(parts) == 1:
            line_size += len(block)
            if len(line_head) < head_bytes:
                line_head += block[: head_bytes - len(line_head)]
        else:
            first = parts[0]
            end_line(
                line_size + len(first),
                first.endswith(b"\r") if first else line_ends_cr,
                (line_head + first[:head_bytes])[:head_bytes],
                line,
            )
            middle = parts[1:-1]
            if middle and max(map(len, middle)) > max_line_bytes:
                for i, part in enumerate(middle, start=1):
                    end_line(len(part), part.endswith(b"\r"), part[:head_bytes], line + i)
            line += len(parts) - 1
            last = parts[-1]
            line_start = offset + len(block) - len(last)
            line_size, line_head = len(last), last[:head_bytes]
        if block:
            line_ends_cr = block.endswith(b"\r")
        offset += len(block)
    if line_size:  # the last line, without a line break
        end_line(line_size, False, line_head, line)
    return scan


def _locate_bad_byte(
    scan: _Scan, bad: int, block: bytes, offset: int, line: int, line_start: int, sep: bytes
) -> None:
    """Record line, line start and byte position of absolute offset ``bad``, given the block's start state.

    ``bad`` may lie before ``offset`` (in an unfinished character carried over from the last block); those
    bytes are never line breaks, so they are on the block's first line.
    """
    scan.bad_offset = bad
    i = bad - offset
    breaks = block.count(sep, 0, i) if i > 0 else 0
    if breaks:
        line_start = offset + block.rfind(sep, 0, i) + 1
    scan.bad_line, scan.bad_line_start, scan.bad_column = line + breaks, line_start, bad - line_start + 1


def _encoding_problem(path: Path, scan: _Scan) -> FileProblem:
    """The file is not UTF-8: name GBK/GB18030 if that is what it is, else an unknown encoding."""
    with open(path, "rb") as f:
        f.seek(scan.bad_line_start)
        read = f.read(_SHOW_CHARS * 4)
    line_bytes = read.split(b"\n")[0].split(b"\r")[0]
    complete = len(line_bytes) < len(read) or len(read) < _SHOW_CHARS * 4
    where = f"line {scan.bad_line}, byte {scan.bad_column} is the first that is not UTF-8: {scan.bad_bytes!r}"
    if _is_gb18030(path):
        as_gb18030 = _clip(_text(line_bytes, "gb18030", complete))
        return FileProblem(
            "the file is not UTF-8: it looks like GBK/GB18030 (the encoding Excel uses for 'CSV' on "
            "Chinese Windows)",
            f"re-export it as UTF-8 (Excel: {_SAVE_AS_CSV_UTF8}), or convert it: "
            "iconv -f GB18030 -t UTF-8 in.csv > out.csv",
            line_number=scan.bad_line,
            detail=f"{where}; read as GB18030 the line starts {as_gb18030!r}",
        )
    return FileProblem(
        "the file is not UTF-8 (unknown encoding, not GBK/GB18030 either)",
        f"have the source system export UTF-8 (Excel: {_SAVE_AS_CSV_UTF8}), or convert the file once its "
        "encoding is known: iconv -f <encoding> -t UTF-8 in.csv > out.csv",
        line_number=scan.bad_line,
        detail=f"{where}; the line starts {_clip(_text(line_bytes, 'utf-8', complete))!r}",
    )


def _is_gb18030(path: Path) -> bool:
    """Whether the whole file decodes as GB18030, with CJK text, mostly GB2312 characters (see module doc)."""
    decoder = codecs.getincrementaldecoder("gb18030")("strict")
    non_ascii = gb2312 = 0
    cjk = False
    with open(path, "rb") as f:
        if f.read(len(_BOM_UTF8)) != _BOM_UTF8:
            f.seek(0)
        while True:
            block = f.read(BLOCK_BYTES)
            try:
                text = decoder.decode(block, not block)
            except UnicodeDecodeError:
                return False
            if not block:
                break
            if non_ascii < _GB_SAMPLE_CHARS:
                ascii_chars = len(text.encode("ascii", errors="ignore"))
                non_ascii += len(text) - ascii_chars
                gb2312 += (len(text.encode("gb2312", errors="ignore")) - ascii_chars) // 2
            cjk = cjk or _CJK.search(text) is not None
    return cjk and gb2312 * 2 >= non_ascii


def _text(data: bytes, encoding: str, complete: bool) -> str:
    """``data`` (a line, or its start) as text; an unfinished character at the end of a start is left out."""
    return codecs.getincrementaldecoder(encoding)("replace").decode(data, complete)


def _clip(text: str) -> str:
    return text if len(text) <= _SHOW_CHARS else text[:_SHOW_CHARS] + "…"
