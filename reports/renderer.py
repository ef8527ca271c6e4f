"""Render the review-pack site: the weekly pack for one week, then the index of all packs.

With the Quarto CLI on PATH the .qmd files are rendered by `quarto render -P key:value`.
Without it (CI, this machine: no registry ships Quarto) a fallback built on Jupyter's libraries
renders the same documents: jupytext's R Markdown reader turns the .qmd into a notebook,
papermill injects the parameters and executes it, nbconvert exports the outputs as HTML.

Everything is rendered into a temporary directory next to the site first and moved into place
only when every document succeeded, so a failed render never leaves a half-written site.

    python -m reports.renderer --warehouse build/warehouse.duckdb --site build/site [--week 2026-11-16]
"""

from __future__ import annotations

import argparse
import html
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from reports import packlib

REPORTS_DIR = Path(__file__).resolve().parent
PACK_QMD = "weekly_pack.qmd"
INDEX_QMD = "index.qmd"
STYLESHEET = "styles.css"
PACKS_SUBDIR = "weekly"
KERNEL_NAME = "python3"  # the virtualenv's ipykernel; jupyter_client starts it with sys.executable
PACK_FILE_PATTERN = re.compile(r"^\d{4}-W\d{2}\.html$")

log = logging.getLogger(__name__)


class RenderError(RuntimeError):
    """A document failed to render; the message names the document and the failing chunk."""


@dataclass(frozen=True)
class Chunk:
    label: str | None
    line: int | None  # 1-based line of the chunk's first source line in the .qmd


@dataclass(frozen=True)
class RenderedPage:
    relative_path: Path  # inside the site
    seconds: float


# ---------------------------------------------------------------- .qmd reading (pure)


_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\Z", re.DOTALL)


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


def read_qmd(path: Path) -> tuple[dict[str, Any], Any]:
    """(front matter, notebook) of a .qmd, using jupytext's R Markdown reader.

    The YAML header (jupytext's first raw cell) is removed and returned as a dict; each code
    chunk gets its `#|` options as cell metadata, and `tags` become notebook tags (papermill
    finds the `parameters` cell by its tag).
    """
    import jupytext

    notebook = jupytext.reads(path.read_text(encoding="utf-8"), fmt="Rmd")
    front_matter: dict[str, Any] = {}
    if notebook.cells and notebook.cells[0].cell_type == "raw":
        match = _FRONT_MATTER.match(notebook.cells[0].source.strip() + "\n")
        if match:
            front_matter = yaml.safe_load(match.group(1)) or {}
            notebook.cells = notebook.cells[1:]
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        options = chunk_options(cell.source)
        cell.metadata["quarto"] = options
        tags = options.get("tags") or []
        cell.metadata["tags"] = [tags] if isinstance(tags, str) else list(tags)
    notebook.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    return front_matter, notebook


def locate_chunk(qmd_text: str, cell_source: str) -> Chunk:
    """Label and line of the chunk whose source is `cell_source` (for error messages)."""
    label = chunk_options(cell_source).get("label")
    position = qmd_text.find(cell_source.strip()) if cell_source.strip() else -1
    line = qmd_text.count("\n", 0, position) + 1 if position >= 0 else None
    return Chunk(label=str(label) if label is not None else None, line=line)


def quarto_option(front_matter: Mapping[str, Any], project: Mapping[str, Any], key: str) -> Any:
    """An execute/html option looked up as Quarto does: the document first, then _quarto.yml."""
    for config in (front_matter, project):
        html_format = (config.get("format") or {}).get("html") or {}
        for section in (config.get("execute") or {}, html_format):
            if isinstance(section, dict) and section.get(key) is not None:
                return section[key]
    return None


def read_project(reports_dir: Path) -> dict[str, Any]:
    return yaml.safe_load((reports_dir / "_quarto.yml").read_text(encoding="utf-8")) or {}


# ---------------------------------------------------------------- fallback renderer


def _drop_hidden_output(notebook: Any, hide_warnings: bool) -> None:
    """Apply the Quarto cell options the fallback honours: include, output and warning."""
    kept = []
    for cell in notebook.cells:
        options = cell.metadata.get("quarto", {}) if cell.cell_type == "code" else {}
        if options.get("include") is False:
            continue
        if cell.cell_type == "code":
            if options.get("output") is False:
                cell.outputs = []
            elif options.get("warning", not hide_warnings) is False:
                cell.outputs = [
                    o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")
                ]
        kept.append(cell)
    notebook.cells = kept


def _execute(qmd_path: Path, notebook: Any, parameters: Mapping[str, Any]) -> Any:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        return papermill.execute_notebook(
            notebook,
            None,
            parameters=dict(parameters),
            kernel_name=KERNEL_NAME,
            cwd=str(qmd_path.parent),
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
        )
    except PapermillExecutionError as exc:
        chunk = locate_chunk(qmd_path.read_text(encoding="utf-8"), exc.source)
        where = f"chunk '{chunk.label}'" if chunk.label else "an unlabelled chunk"
        if chunk.line is not None:
            where += f" at line {chunk.line}"
        raise RenderError(f"{qmd_path}: {where} raised {exc.ename}: {exc.evalue}") from exc


def _export_body(notebook: Any) -> str:
    """Cell outputs as HTML fragments: nbconvert's bare 'basic' template, no code, no prompts."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="basic", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(notebook)
    # The basic template loads nothing from CDNs, but drop any script a cell output might carry:
    # the pack must look right offline and needs no JavaScript.
    return re.sub(r"<script\b.*?</script>", "", body, flags=re.DOTALL | re.IGNORECASE)


def _toc_html(body: str) -> str:
    entries = re.findall(r'<h2 id="([^"]+)"[^>]*>(.*?)</h2>', body, flags=re.DOTALL)
    if not entries:
        return ""
    items = "".join(
        f'<li><a href="#{anchor}">{re.sub(r"<[^>]+>|¶", "", text).strip()}</a></li>'
        for anchor, text in entries
    )
    return f'<nav class="srw-toc" aria-label="目录 Contents"><ol>{items}</ol></nav>'


def page_html(
    *,
    body: str,
    title: str,
    subtitle: str | None,
    page_title: str,
    site_title: str,
    root: str,
    lang: str,
    source_name: str,
    with_toc: bool,
) -> str:
    """The fallback's page shell: navbar, title block, optional contents list, outputs; CSS linked."""
    esc = html.escape
    subtitle_html = f'<p class="subtitle">{esc(subtitle)}</p>' if subtitle else ""
    rendered_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="{esc(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="sales-review-warehouse renderer (jupytext + papermill + nbconvert)">
<title>{esc(page_title)}</title>
<link rel="stylesheet" href="{root}{STYLESHEET}">
</head>
<body class="srw-page">
<header class="srw-navbar"><a class="srw-site-title" href="{root}index.html">{esc(site_title)}</a>
<a href="{root}index.html">全部周报 All packs</a></header>
<main class="srw-main">
<header class="srw-title-block"><h1 class="title">{esc(title)}</h1>{subtitle_html}</header>
{_toc_html(body) if with_toc else ""}
{body}
<footer class="srw-footer">{esc(source_name)} · rendered {rendered_at}</footer>
</main>
</body>
</html>
"""


def render_fallback(
    qmd_path: Path,
    output_html: Path,
    parameters: Mapping[str, Any],
    *,
    project: Mapping[str, Any],
    root: str,
    page_title: str | None = None,
) -> None:
    """Render one .qmd to `output_html` without Quarto. Raises RenderError naming the failing chunk."""
    front_matter, notebook = read_qmd(qmd_path)
    executed = _execute(qmd_path, notebook, parameters)
    hide_warnings = quarto_option(front_matter, project, "warning") is False
    _drop_hidden_output(executed, hide_warnings)
    title = str(front_matter.get("title") or qmd_path.stem)
    site_title = str((project.get("website") or {}).get("title") or title)
    page = page_html(
        body=_export_body(executed),
        title=title,
        subtitle=front_matter.get("subtitle"),
        page_title=page_title or title,
        site_title=site_title,
        root=root,
        lang=str(front_matter.get("lang") or project.get("lang") or "zh-CN"),
        source_name=qmd_path.name,
        with_toc=bool(quarto_option(front_matter, project, "toc")),
    )
    output_html.parent.mkdir(parents=True, exist_ok=True)
    output_html.write_text(page, encoding="utf-8")


# ---------------------------------------------------------------- Quarto renderer


def quarto_args(
    quarto: str, qmd_path: Path, parameters: Mapping[str, Any], page_title: str | None
) -> list[str]:
    """`quarto render` command line; empty parameters are left to the document's defaults."""
    args = [quarto, "render", str(qmd_path), "--to", "html"]
    for key, value in parameters.items():
        if value not in (None, ""):
            args += ["-P", f"{key}:{value}"]
    if page_title:
        args += ["-M", f"pagetitle:{page_title}"]
    return args


def quarto_project(reports_dir: Path, staging: Path, week_label: str) -> tuple[Path, Path, Path]:
    """A copy of the Quarto project where the pack is `weekly/<week_label>.qmd`.

    Quarto names a page after its source and links site_libs relative to it, so the pack is
    rendered at its final place in the site instead of being renamed afterwards. The copy renders
    into its own `_site` (the usual in-project output dir); the renderer publishes from there.
    Returns (pack .qmd, index .qmd, output dir).
    """
    project_dir = staging / "project"
    (project_dir / PACKS_SUBDIR).mkdir(parents=True)
    config = read_project(reports_dir)
    config.setdefault("project", {})["render"] = [INDEX_QMD, f"{PACKS_SUBDIR}/*.qmd"]
    config["project"]["output-dir"] = "_site"
    (project_dir / "_quarto.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    shutil.copy2(reports_dir / STYLESHEET, project_dir / STYLESHEET)
    shutil.copy2(reports_dir / INDEX_QMD, project_dir / INDEX_QMD)
    pack_qmd = project_dir / PACKS_SUBDIR / f"{week_label}.qmd"
    shutil.copy2(reports_dir / PACK_QMD, pack_qmd)
    return pack_qmd, project_dir / INDEX_QMD, project_dir / "_site"


def _run_quarto(args: Sequence[str], document: str) -> None:
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).splitlines()[-30:])
        raise RenderError(f"{document}: quarto render failed (exit {result.returncode}):\n{tail}")


# ---------------------------------------------------------------- the site


def existing_pack_labels(site_dir: Path) -> list[str]:
    """Week labels of the pack pages already in the site (kept across renders)."""
    packs_dir = site_dir / PACKS_SUBDIR
    if not packs_dir.is_dir():
        return []
    return sorted(p.stem for p in packs_dir.iterdir() if PACK_FILE_PATTERN.match(p.name))


def _publish(staged_site: Path, site_dir: Path) -> list[Path]:
    """Move every staged file into the site (os.replace: each file switches atomically).

    Pack pages first and the index last, so the index never links a page that is not there yet.
    """
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
    *,
    reports_dir: Path = REPORTS_DIR,
) -> list[Path]:
    """Render the pack of `week_start` (default: latest complete week) and the index into `site_dir`.

    Returns the files written: `<site>/weekly/<week_label>.html`, `<site>/index.html`, the CSS
    (and Quarto's site_libs when Quarto rendered). Earlier weeks' pages stay in the site.
    """
    warehouse_path = Path(warehouse_path).resolve()
    site_dir = Path(site_dir).resolve()
    con = packlib.connect_readonly(warehouse_path)
    try:
        week = packlib.resolve_week(con, week_start)
    finally:
        con.close()  # the kernel opens its own read-only connection

    project = read_project(reports_dir)
    pack_title = f"销售周报 Weekly Sales Review {week.label}"
    pack_params = {"warehouse": str(warehouse_path), "week_start": week.start.isoformat(), "lang": "zh-CN"}
    labels = sorted({*existing_pack_labels(site_dir), week.label})
    index_params = {"packs": ",".join(labels)}
    pack_relative = Path(PACKS_SUBDIR) / f"{week.label}.html"

    site_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}-render-", dir=site_dir.parent))
    try:
        quarto = shutil.which("quarto")
        timings: list[RenderedPage] = []
        started = time.perf_counter()
        if quarto:
            pack_qmd, index_qmd, staged_site = quarto_project(reports_dir, staging, week.label)
            _run_quarto(quarto_args(quarto, pack_qmd, pack_params, pack_title), PACK_QMD)
            timings.append(RenderedPage(pack_relative, time.perf_counter() - started))
            started = time.perf_counter()
            _run_quarto(quarto_args(quarto, index_qmd, index_params, None), INDEX_QMD)
        else:
            staged_site = staging / "site"
            render_fallback(
                reports_dir / PACK_QMD,
                staged_site / pack_relative,
                pack_params,
                project=project,
                root="../",
                page_title=pack_title,
            )
            timings.append(RenderedPage(pack_relative, time.perf_counter() - started))
            started = time.perf_counter()
            render_fallback(
                reports_dir / INDEX_QMD, staged_site / "index.html", index_params, project=project, root=""
            )
            shutil.copy2(reports_dir / STYLESHEET, staged_site / STYLESHEET)
        timings.append(RenderedPage(Path("index.html"), time.perf_counter() - started))
        for page in timings:
            engine = "quarto" if quarto else "fallback"
            log.info("rendered %s in %.1f s (%s)", page.relative_path, page.seconds, engine)
        return _publish(staged_site, site_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# ---------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.renderer", description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="DuckDB warehouse file (read-only)")
    parser.add_argument("--site", type=Path, required=True, help="site directory to render into")
    parser.add_argument(
        "--week", type=date.fromisoformat, default=None, help="Monday of the week (YYYY-MM-DD)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("papermill").setLevel(logging.WARNING)  # its per-notebook banner is noise here
    try:
        written = render_site(args.warehouse, args.site, args.week)
    except (RenderError, packlib.PackDataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
