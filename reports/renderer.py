"""Render the review-pack site: for one week and one quarter, a pack per audience (the company and each
region) and language (zh-CN, en), then the index with the latest packs and the archive.

The packs are Quarto documents (weekly_pack.qmd, quarterly_pack.qmd, index.qmd). With the Quarto CLI
on PATH they are rendered by `quarto render -P key:value`. Without it (no registry ships Quarto) the
built-in renderer runs the same documents with the same parameters: it executes the `{python}` chunks
in-process (every chunk of these documents prints Markdown headings and raw HTML blocks, `output:
asis`), turns the Markdown into HTML and puts it in the site's page shell. No Jupyter kernel is started,
so a pack takes a fraction of a second, and the documents are spread over the machine's cores.

Everything is written into a staging folder next to the site first and moved into place only when every
document succeeded, so a failed render never leaves a half-written site.

    python -m reports.renderer --warehouse build/warehouse.duckdb --site build/site [--week 2026-11-16]
"""

from __future__ import annotations

import argparse
import contextlib
import html
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from reports import i18n
from reports.components import RAW_HTML_CLOSE, RAW_HTML_OPEN
from reports.context import Audience, PackDataError, Period, as_of_date, connect_readonly

REPORTS_DIR = Path(__file__).resolve().parent
STYLESHEET = "styles.css"
DOCUMENTS = {"week": "weekly_pack.qmd", "quarter": "quarterly_pack.qmd"}
FOLDERS = {"week": "weekly", "quarter": "quarterly"}
INDEX_QMD = "index.qmd"
PAGE_NAME = re.compile(r"^(?P<audience>[a-z0-9-]+)\.(?P<lang>zh-CN|en)\.html$")

log = logging.getLogger(__name__)


class RenderError(RuntimeError):
    """A document failed to render; the message names the document and the failing chunk."""


@dataclass(frozen=True)
class Chunk:
    label: str | None
    line: int | None  # 1-based line of the chunk's first source line in the .qmd


@dataclass(frozen=True)
class Page:
    """One document to render: which .qmd, with which parameters, to which page of the site."""

    document: str  # file name in reports/
    parameters: dict[str, str]
    relative_path: Path  # inside the site
    title: str
    lang: str


# ---------------------------------------------------------------- .qmd reading (pure)

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_CHUNK = re.compile(r"^```\{python\}[^\n]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def chunk_options(source: str) -> dict[str, Any]:
    """The `#| key: value` lines at the top of a chunk, parsed as YAML (Quarto's cell options)."""
    option_lines = []
    for line in source.splitlines():
        if not line.startswith("#|"):
            break
        option_lines.append(line[2:].strip())
    if not option_lines:
        return {}
    options = yaml.safe_load("\n".join(option_lines))
    return options if isinstance(options, dict) else {}


@dataclass(frozen=True)
class Block:
    kind: str  # "markdown" or "code"
    text: str
    line: int  # 1-based line of the block's first line in the .qmd
    options: dict[str, Any] = field(default_factory=dict)


def read_qmd(text: str) -> tuple[dict[str, Any], list[Block]]:
    """(front matter, blocks): the Markdown between chunks and the `{python}` chunks, in order."""
    front_matter: dict[str, Any] = {}
    offset = 0
    match = _FRONT_MATTER.match(text)
    if match:
        front_matter = yaml.safe_load(match.group(1)) or {}
        offset = match.end()
    blocks, position = [], offset
    for chunk in _CHUNK.finditer(text, offset):
        if text[position : chunk.start()].strip():
            blocks.append(
                Block("markdown", text[position : chunk.start()], text.count("\n", 0, position) + 1)
            )
        source = chunk.group(1)
        line = text.count("\n", 0, chunk.start(1)) + 1
        blocks.append(Block("code", source, line, chunk_options(source)))
        position = chunk.end()
    if text[position:].strip():
        blocks.append(Block("markdown", text[position:], text.count("\n", 0, position) + 1))
    return front_matter, blocks


def locate_chunk(qmd_text: str, cell_source: str) -> Chunk:
    """Label and line of the chunk whose source is `cell_source` (for error messages)."""
    label = chunk_options(cell_source).get("label")
    position = qmd_text.find(cell_source.strip()) if cell_source.strip() else -1
    line = qmd_text.count("\n", 0, position) + 1 if position >= 0 else None
    return Chunk(label=str(label) if label is not None else None, line=line)


def read_project(reports_dir: Path) -> dict[str, Any]:
    return yaml.safe_load((reports_dir / "_quarto.yml").read_text(encoding="utf-8")) or {}


# ---------------------------------------------------------------- built-in renderer


def execute(qmd_path: Path, parameters: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """Run the document's chunks in one namespace, the parameters injected after its `parameters`
    chunk (as Quarto and papermill do). Returns (front matter, the page's Markdown)."""
    text = qmd_path.read_text(encoding="utf-8")
    front_matter, blocks = read_qmd(text)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    out: list[str] = []
    cwd = os.getcwd()
    os.chdir(qmd_path.parent)
    try:
        for block in blocks:
            if block.kind == "markdown":
                out.append(block.text)
                continue
            output = io.StringIO()
            try:
                with contextlib.redirect_stdout(output):
                    exec(compile(block.text, f"{qmd_path.name}:{block.line}", "exec"), namespace)
            except Exception as exc:
                label = block.options.get("label")
                where = f"chunk '{label}'" if label else "an unlabelled chunk"
                raise RenderError(
                    f"{qmd_path}: {where} at line {block.line} raised {type(exc).__name__}: {exc}"
                ) from exc
            if "parameters" in (block.options.get("tags") or []):
                namespace.update(parameters)
            if block.options.get("include") is False or block.options.get("output") is False:
                continue
            if block.options.get("output") == "asis":
                out.append(output.getvalue())
            elif output.getvalue():
                out.append(f"{RAW_HTML_OPEN}\n<pre>{html.escape(output.getvalue())}</pre>\n{RAW_HTML_CLOSE}")
    finally:
        os.chdir(cwd)
    return front_matter, "\n\n".join(out)


_RAW = re.compile(
    re.escape(RAW_HTML_OPEN) + r"\n(.*?)\n" + re.escape(RAW_HTML_CLOSE) + r"$", re.DOTALL | re.M
)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*(?:\{#([\w-]+)\})?\s*$", re.MULTILINE)


def markdown_to_html(markdown: str) -> str:
    """The Markdown the chunks print: raw HTML blocks pass through, headings keep their {#id}, the rest
    goes through a CommonMark renderer."""
    from markdown_it import MarkdownIt

    renderer = MarkdownIt("commonmark", {"html": True})
    raw: list[str] = []

    def keep(match: re.Match) -> str:
        raw.append(match.group(1))
        return f"\n\nSRWRAW{len(raw) - 1}END\n\n"

    def head(match: re.Match) -> str:
        level, text, anchor = len(match.group(1)), match.group(2), match.group(3)
        attribute = f' id="{html.escape(anchor)}"' if anchor else ""
        raw.append(f"<h{level}{attribute}>{html.escape(text)}</h{level}>")
        return f"\n\nSRWRAW{len(raw) - 1}END\n\n"

    text = _HEADING.sub(head, _RAW.sub(keep, markdown))
    rendered = renderer.render(text)
    return re.sub(r"<p>SRWRAW(\d+)END</p>", lambda m: raw[int(m.group(1))], rendered)


def _toc_html(body: str, lang: str) -> str:
    entries = re.findall(r'<h2 id="([^"]+)"[^>]*>(.*?)</h2>', body, flags=re.DOTALL)
    if not entries:
        return ""
    items = "".join(f'<li><a href="#{anchor}">{text}</a></li>' for anchor, text in entries)
    title = "目录" if lang == "zh-CN" else "Contents"
    return f'<nav class="srw-toc" aria-label="{title}"><ol>{items}</ol></nav>'


def page_html(*, body: str, title: str, site_title: str, root: str, lang: str) -> str:
    """The built-in renderer's page shell: navbar, title, contents list, the pack; CSS linked, no script."""
    esc = html.escape
    home = "全部报告" if lang == "zh-CN" else "All packs"
    return f"""<!DOCTYPE html>
<html lang="{esc(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="sales-review-warehouse renderer">
<title>{esc(title)}</title>
<link rel="stylesheet" href="{root}{STYLESHEET}">
</head>
<body class="srw-page">
<header class="srw-navbar"><a class="srw-site-title" href="{root}index.html">{esc(site_title)}</a>
<a href="{root}index.html">{home}</a></header>
<main class="srw-main">
<header class="srw-title-block"><h1 class="title">{esc(title)}</h1></header>
{_toc_html(body, lang)}
{body}
</main>
</body>
</html>
"""


def render_fallback(page: Page, reports_dir: Path, staged_site: Path, site_title: str) -> None:
    """Render one page with the built-in renderer. Raises RenderError naming the failing chunk."""
    _, markdown = execute(reports_dir / page.document, page.parameters)
    root = "../" * (len(page.relative_path.parts) - 1)
    out = staged_site / page.relative_path
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        page_html(
            body=markdown_to_html(markdown),
            title=page.title,
            site_title=site_title,
            root=root,
            lang=page.lang,
        ),
        encoding="utf-8",
    )


def _render_pages(pages: Sequence[Page], reports_dir: Path, staged_site: Path, site_title: str) -> None:
    """The built-in renderer over the machine's cores: one worker process per core, each rendering its
    share of the pages in one warm interpreter (a fresh `python -m reports.renderer --worker`)."""
    workers = min(len(pages), os.cpu_count() or 1)
    if workers <= 1:
        for page in pages:
            render_fallback(page, reports_dir, staged_site, site_title)
        return
    from pipelines.lib.child_processes import die_with_parent

    processes = []
    for number in range(workers):
        job = staged_site.parent / f"worker-{number}.json"
        job.write_text(
            json.dumps(
                {
                    "reports_dir": str(reports_dir),
                    "staged_site": str(staged_site),
                    "site_title": site_title,
                    "pages": [
                        {**asdict(page), "relative_path": str(page.relative_path)}
                        for page in pages[number::workers]
                    ],
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "reports.renderer", "--worker", str(job)],
                stderr=subprocess.PIPE,
                text=True,
                preexec_fn=die_with_parent,
            )
        )
    errors = []
    for process in processes:
        _, err = process.communicate()
        if process.returncode != 0:
            lines = [line for line in err.splitlines() if line.startswith("error: ")]
            errors.append(lines[-1].removeprefix("error: ") if lines else err.strip()[-2000:])
    if errors:
        raise RenderError(errors[0])


def _work(job_file: Path) -> None:
    """A worker: render the pages of a job file written by _render_pages."""
    job = json.loads(job_file.read_text(encoding="utf-8"))
    for page in job["pages"]:
        page = Page(**{**page, "relative_path": Path(page["relative_path"])})
        render_fallback(page, Path(job["reports_dir"]), Path(job["staged_site"]), job["site_title"])


# ---------------------------------------------------------------- Quarto renderer


def quarto_args(
    quarto: str, qmd_path: Path, parameters: Mapping[str, Any], title: str | None, lang: str | None = None
) -> list[str]:
    """`quarto render` command line; empty parameters are left to the document's defaults."""
    args = [quarto, "render", str(qmd_path), "--to", "html"]
    for key, value in parameters.items():
        if value not in (None, ""):
            args += ["-P", f"{key}:{value}"]
    if title:
        args += ["-M", f"title:{title}", "-M", f"pagetitle:{title}"]
    if lang:
        args += ["-M", f"lang:{lang}"]
    return args


def quarto_project(reports_dir: Path, staging: Path, pages: Sequence[Page]) -> Path:
    """A copy of the Quarto project with every page's .qmd at its place in the site (Quarto names a page
    after its source and links site_libs relative to it). Returns the project folder."""
    project_dir = staging / "project"
    project_dir.mkdir(parents=True)
    config = read_project(reports_dir)
    config.setdefault("project", {})["output-dir"] = "_site"
    config["project"]["render"] = [str(p.relative_path.with_suffix(".qmd")) for p in pages]
    (project_dir / "_quarto.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    shutil.copy2(reports_dir / STYLESHEET, project_dir / STYLESHEET)
    for page in pages:
        target = project_dir / page.relative_path.with_suffix(".qmd")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(reports_dir / page.document, target)
    return project_dir


def _run_quarto(args: Sequence[str], document: str) -> None:
    from pipelines.lib.child_processes import die_with_parent

    result = subprocess.run(args, capture_output=True, text=True, check=False, preexec_fn=die_with_parent)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).splitlines()[-30:])
        raise RenderError(f"{document}: quarto render failed (exit {result.returncode}):\n{tail}")


# ---------------------------------------------------------------- the site


def audiences(con) -> list[Audience]:
    """The company, then every region with reps in the attainment mart."""
    regions = [
        r
        for (r,) in con.execute(
            "select distinct unit_id from marts.fct_attainment_weekly where level = 'region' order by 1"
        ).fetchall()
    ]
    return [Audience(None), *(Audience(r) for r in regions)]


def latest_complete_quarter(as_of: date) -> Period:
    """The last quarter that ended on or before the as-of date."""
    current = Period.quarter(as_of)
    return current if current.end <= as_of else current.previous()


def pack_pages(
    warehouse: Path,
    period: Period,
    audience_list: Sequence[Audience],
    langs: Sequence[str],
    staged_site: Path,
) -> list[Page]:
    folder = Path(FOLDERS[period.kind]) / period.label
    pages = []
    pack_key = "weekly_pack" if period.kind == "week" else "quarterly_pack"
    for audience in audience_list:
        for lang in langs:
            relative = folder / f"{audience.slug}.{lang}.html"
            tables = staged_site / folder / f"{audience.slug}.{lang}"
            pages.append(
                Page(
                    document=DOCUMENTS[period.kind],
                    parameters={
                        "warehouse": str(warehouse),
                        "period_start": period.start.isoformat(),
                        "region": audience.region or "",
                        "lang": lang,
                        "tables_dir": str(tables),
                    },
                    relative_path=relative,
                    title=f"{i18n.t(pack_key, lang)} · {audience.name(lang)} · {period.label}",
                    lang=lang,
                )
            )
    return pages


def site_packs(site_dir: Path) -> list[dict[str, str]]:
    """Every pack page in a site: kind, period label, audience slug, language, path."""
    found = []
    for kind, folder in FOLDERS.items():
        base = site_dir / folder
        if not base.is_dir():
            continue
        for page in sorted(base.glob("*/*.html")):
            match = PAGE_NAME.match(page.name)
            if match:
                found.append(
                    {
                        "kind": kind,
                        "period": page.parent.name,
                        "audience": match["audience"],
                        "lang": match["lang"],
                        "path": str(page.relative_to(site_dir)),
                    }
                )
    return found


def _publish(staged_site: Path, site_dir: Path) -> list[Path]:
    """Move every staged file into the site (os.replace: each file switches atomically), the index last."""
    files = [p for p in staged_site.rglob("*") if p.is_file()]
    files.sort(key=lambda p: (p.name == "index.html" and p.parent == staged_site, str(p)))
    written = []
    for source in files:
        target = site_dir / source.relative_to(staged_site)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        written.append(target)
    return written


def render_site(
    warehouse_path: Path,
    site_dir: Path,
    week_start: date | None = None,
    quarter_start: date | None = None,
    *,
    reports_dir: Path = REPORTS_DIR,
    langs: Sequence[str] = i18n.LANGS,
    kinds: Sequence[str] = ("week", "quarter"),
) -> list[Path]:
    """Render the packs of one week (default: the latest complete week) and one quarter (default: the
    latest complete quarter) for the company and every region in every language, and the index, into
    `site_dir`. Returns the files written. Earlier weeks' and quarters' pages stay in the site.
    `kinds` limits it to the weekly ("week") or the quarterly ("quarter") packs."""
    warehouse_path = Path(warehouse_path).resolve()
    site_dir = Path(site_dir).resolve()
    con = connect_readonly(warehouse_path)
    try:
        as_of, latest_week = as_of_date(con)
        periods = []
        if "week" in kinds:
            week_monday = week_start or latest_week
            if week_monday is None:
                raise PackDataError(f"{warehouse_path}: no complete week yet (data as of {as_of})")
            periods.append(Period.week(week_monday))
        if "quarter" in kinds:
            periods.append(
                latest_complete_quarter(as_of) if quarter_start is None else Period.quarter(quarter_start)
            )
        audience_list = audiences(con)
    finally:
        con.close()  # the documents open their own read-only connections

    project = read_project(reports_dir)
    site_title = str((project.get("website") or {}).get("title") or "Sales review")
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}-render-", dir=site_dir.parent))
    try:
        staged_site = staging / "site"
        pages = [
            p
            for period in periods
            for p in pack_pages(warehouse_path, period, audience_list, langs, staged_site)
        ]
        started = time.perf_counter()
        quarto = shutil.which("quarto")
        if quarto:
            project_dir = quarto_project(reports_dir, staging, pages)
            for page in pages:
                qmd = project_dir / page.relative_path.with_suffix(".qmd")
                args = quarto_args(quarto, qmd, page.parameters, page.title, page.lang)
                _run_quarto(args, str(page.relative_path))
            shutil.copytree(project_dir / "_site", staged_site, dirs_exist_ok=True)
        else:
            _render_pages(pages, reports_dir, staged_site, site_title)
            shutil.copy2(reports_dir / STYLESHEET, staged_site / STYLESHEET)
        log.info(
            "rendered %d pack pages in %.1f s (%s)",
            len(pages),
            time.perf_counter() - started,
            "quarto" if quarto else "built-in renderer",
        )
        _render_index(reports_dir, staged_site, site_dir, site_title, as_of, quarto)
        return _publish(staged_site, site_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _render_index(
    reports_dir: Path, staged_site: Path, site_dir: Path, site_title: str, as_of: date, quarto: str | None
) -> None:
    """The index: the latest pack of each kind per audience and language, and the archive."""
    listing = {(p["path"]): p for p in site_packs(site_dir) + site_packs(staged_site)}
    packs = "\n".join(
        "|".join((p["kind"], p["period"], p["audience"], p["lang"], p["path"])) for p in listing.values()
    )
    parameters = {"packs": packs, "as_of": as_of.isoformat()}
    page = Page(INDEX_QMD, parameters, Path("index.html"), site_title, "zh-CN")
    if quarto:
        project_dir = staged_site.parent / "index-project"
        project_dir.mkdir()
        shutil.copy2(reports_dir / "_quarto.yml", project_dir / "_quarto.yml")
        shutil.copy2(reports_dir / STYLESHEET, project_dir / STYLESHEET)
        shutil.copy2(reports_dir / INDEX_QMD, project_dir / INDEX_QMD)
        _run_quarto(quarto_args(quarto, project_dir / INDEX_QMD, parameters, None), INDEX_QMD)
        shutil.copy2(project_dir / "_site" / "index.html", staged_site / "index.html")
    else:
        render_fallback(page, reports_dir, staged_site, site_title)


# ---------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.renderer", description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, help="DuckDB warehouse file (read-only)")
    parser.add_argument("--site", type=Path, help="site directory to render into")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)  # a job of _render_pages
    parser.add_argument("--week", type=date.fromisoformat, default=None, help="Monday of the week")
    parser.add_argument("--quarter", type=date.fromisoformat, default=None, help="first day of the quarter")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.worker:
        try:
            _work(args.worker)
        except (RenderError, PackDataError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    if not args.warehouse or not args.site:
        parser.error("--warehouse and --site are required")
    try:
        written = render_site(args.warehouse, args.site, args.week, args.quarter)
    except (RenderError, PackDataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
