"""The report and JupyterLab in a real browser: headless Chromium driven by Playwright.

1. The report, built into a temporary folder and served on 127.0.0.1: every page loads with no
   console error, every image loads, every internal link answers 200, and no request leaves
   the machine.
2. JupyterLab, started on 127.0.0.1 (random port, a token) on a temporary copy of the
   notebooks, with figures and tables redirected to a temporary folder: a notebook run with
   Run > Run All Cells finishes without an error and writes the same bytes as the build. Both
   notebooks run in one JupyterLab page (the second opened from the file browser), and the
   server runs without the parts the test does not use (see ``write_lab_config``).

Chromium is the system's (``/usr/bin/chromium``; Playwright's own browser downloads are not
used). Without it these tests skip: install it with ``apt-get install chromium`` as root.
Screenshots are saved under pytest's temporary folder.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from psu_study import report
from psu_study.environment import DETERMINISTIC_ENV, FOLDER_ENV, PREFIX
from psu_study.paths import FIGURES_DIR, NOTEBOOKS_DIR, REPO_ROOT, TABLES_DIR
from psu_study.run_folders import RunFolders

pytestmark = pytest.mark.slow  # a browser, JupyterLab and the report's server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 # V8 without its optimising compiler (TurboFan): these pages run for seconds,
                 # too short to win back what optimising JupyterLab's bundles costs
                 # (measured: about 0.5 CPU-s less per JupyterLab load; see the commit)
                 "--js-flags=--no-opt"]
JUPYTER = Path(sys.executable).with_name("jupyter")
LOOPBACK = "127.0.0.1"
POLL_MS = 250
"""How often a wait re-evaluates its condition in the page; Playwright's default for
wait_for_function is every animation frame, which keeps Chromium painting 60 frames a second."""
KERNEL_IDLE = re.compile(r"\| Idle$")
"""The status bar's kernel item once the notebook's kernel is connected and idle."""
LAB_NOTEBOOKS = ("01_recruitment", "07_explore")
"""A notebook that writes figures and tables, and the exploration notebook with its widgets
switched on."""

if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium` (as "
                "root, or with sudo) to run the browser tests", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One Chromium for the module, with a fresh profile."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1280, "height": 900})
        yield context
        context.close()


def watch_requests(page) -> list[str]:
    """Record every request the page makes to a host other than 127.0.0.1."""
    elsewhere: list[str] = []

    def record(request) -> None:
        url = request.url
        if not url.startswith(("data:", "blob:")) and urlsplit(url).hostname != LOOPBACK:
            elsewhere.append(url)

    page.on("request", record)
    return elsewhere


# --- 1. the report ---------------------------------------------------------------------------


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A browser that moves on mid-download resets the connection: not a failure."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def served_report(tmp_path_factory):
    site = tmp_path_factory.mktemp("browser-site") / "report"
    report.build_report(site)
    server = QuietServer(
        (LOOPBACK, 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site, f"http://{LOOPBACK}:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def status(url: str, method: str = "GET") -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method),
                                    timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_report_pages_load_cleanly_with_every_image_and_link(browser, served_report,
                                                             tmp_path):
    """README, section Exploring and reading the report: "The browser tests drive the system's
    Chromium over the report and a JupyterLab on a loopback port"."""
    site, base = served_report
    page_paths = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert "index.html" in page_paths and len(page_paths) > 2
    page = browser.new_page()
    elsewhere = watch_requests(page)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{m.location.get('url')}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    checked: dict[str, int] = {}
    for path in page_paths:
        url = urljoin(base, path)
        response = page.goto(url, wait_until="load")
        assert response is not None and response.status == 200, path
        images = page.evaluate("""() => Array.from(document.images).map((img) =>
            [img.getAttribute('src').slice(0, 60), img.complete && img.naturalWidth > 0])""")
        broken = [src for src, ok in images if not ok]
        assert not broken, f"{path}: images that did not load: {broken}"
        links = page.evaluate("""() => [
            ...Array.from(document.querySelectorAll('a[href]'), (a) => a.href),
            ...Array.from(document.querySelectorAll('link[href]'), (l) => l.href),
            ...Array.from(document.querySelectorAll('script[src]'), (s) => s.src),
            ...Array.from(document.images, (i) => i.src)]""")
        for link in links:
            if link.startswith("data:"):
                continue
            assert link.startswith(base), f"{path}: link to another host: {link}"
            target = link.split("#")[0]
            if target not in checked:
                checked[target] = status(target, "HEAD")  # the answer, not the body
            assert checked[target] == 200, f"{path}: {link} answered {checked[target]}"
        if path == "index.html":  # its top: the whole page is ~35,000 px tall, and a
            # full-page screenshot of it cost 1.8 CPU-s against 0.06 (measured)
            page.screenshot(path=str(tmp_path / "report-index.png"))
        if path == "notebooks/01_recruitment.html":
            assert page.locator("details.psu-code[open]").count() == 0, "code folded at first"
            page.click("#psu-toggle-code")
            assert page.locator("details.psu-code[open]").count() > 0, "the toggle opens code"
            page.screenshot(path=str(tmp_path / "report-01_recruitment.png"), full_page=True)
    page.close()
    assert not errors, errors
    assert not elsewhere, f"requests to other hosts: {elsewhere}"
    print(f"report: {len(page_paths)} pages, {len(checked)} distinct links; screenshots in "
          f"{tmp_path}")


# --- 2. JupyterLab ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a copy of the notebooks; outputs to a temporary folder; everything
    Jupyter writes (runtime, settings, workspaces) under the same temporary root."""
    root = tmp_path_factory.mktemp("lab")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    for name in LAB_NOTEBOOKS:  # outputs cleared, so "run" is seen to complete
        nb = json.loads((NOTEBOOKS_DIR / f"{name}.ipynb").read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                cell["outputs"], cell["execution_count"] = [], None
            if name == "07_explore" and "parameters" in cell["metadata"].get("tags", []):
                source = "".join(cell["source"])
                assert "interactive = False" in source
                cell["source"] = source.replace("interactive = False", "interactive = True")
        (notebooks / f"{name}.ipynb").write_text(json.dumps(nb, indent=1, ensure_ascii=False)
                                                 + "\n", encoding="utf-8")

    out = root / "out"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith((PREFIX, "JUPYTER_"))}  # e.g. the nbval stage folder
    mplconfig = REPO_ROOT / ".venv" / "mplconfig"
    env.update({
        FOLDER_ENV["figures_dir"]: str(out / "figures"),
        FOLDER_ENV["tables_dir"]: str(out / "tables"),
        **DETERMINISTIC_ENV,
        "JUPYTER_CONFIG_DIR": str(root / "config"),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
        "IPYTHONDIR": str(root / "ipython"),
        "MPLCONFIGDIR": str(mplconfig if mplconfig.is_dir() else root / "mplconfig"),
        "HOME": str(root / "home"),
    })
    write_lab_config(root / "config")
    port, token = free_port(), uuid.uuid4().hex
    log = open(root / "lab.log", "wb")  # noqa: SIM115 - closed below, after the server
    proc = subprocess.Popen(
        [str(JUPYTER), "lab", "--no-browser", f"--ip={LOOPBACK}", f"--port={port}",
         "--port-retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={notebooks}",
         f"--LabApp.user_settings_dir={root / 'settings'}",
         f"--LabApp.workspaces_dir={root / 'workspaces'}",
         "--LabApp.extension_manager=readonly",  # no PyPI look-ups: loopback only
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--ServerApp.terminals_enabled=False",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://{LOOPBACK}:{port}"
    try:
        deadline = time.monotonic() + 60
        while status_or_none(f"{base}/api/status?token={token}") != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("JupyterLab did not start:\n"
                                   + (root / "lab.log").read_text(errors="replace")[-3000:])
            time.sleep(0.3)
        yield {"base": base, "token": token, "notebooks": notebooks, "out": out}
    finally:
        proc.terminate()  # the server shuts its kernels down
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


LAB_UNUSED_SERVER_EXTENSIONS = ("jupyter_lsp", "jupyter_server_terminals", "notebook_shim")
LAB_UNUSED_PLUGINS = ("@jupyterlab/extensionmanager-extension", "@jupyterlab/lsp-extension",
                      "@jupyterlab/terminal-extension",
                      "@jupyterlab/apputils-extension:announcements")
"""What the test does not use and costs CPU: the language-server proxy scans for servers at
start, the extension manager lists extensions, and each page load's build check runs
``node yarn.js config`` (about 0.3 CPU-s a time)."""


def write_lab_config(config: Path) -> None:
    """The server and page configuration, in the test's own JUPYTER_CONFIG_DIR."""
    (config / "labconfig").mkdir(parents=True)
    (config / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {
        "jpserver_extensions": dict.fromkeys(LAB_UNUSED_SERVER_EXTENSIONS, False)}}))
    (config / "labconfig" / "page_config.json").write_text(json.dumps({
        "buildCheck": False, "buildAvailable": False,
        "disabledExtensions": dict.fromkeys(LAB_UNUSED_PLUGINS, True)}))


def status_or_none(url: str) -> int | None:
    try:
        return status(url)
    except OSError:
        return None


PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
"""The notebook on show: the other stays open, hidden, in its own tab."""


def open_in_lab(page, lab: dict, name: str) -> None:
    """Open ``name`` in JupyterLab and wait for its kernel. The first notebook is opened by
    URL, in a workspace of its own so no other notebook is reopened beside it; the next from
    the file browser in the same page, so JupyterLab is loaded once."""
    if page.url.startswith(lab["base"]):
        page.locator(".jp-DirListing-item", has_text=f"{name}.ipynb").dblclick()
    else:
        page.goto(f"{lab['base']}/lab/workspaces/{name}/tree/{name}.ipynb"
                  f"?reset&token={lab['token']}")
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current",
                 has_text=f"{name}.ipynb").wait_for(timeout=60_000)
    page.wait_for_selector(f"{PANEL} .jp-Cell", timeout=60_000)
    # The toolbar's execution indicator says "idle" before any kernel exists ("No Kernel |
    # Initializing" in the status bar), and Run All clicked then is lost: wait until the
    # server has the notebook's kernel and the status bar, which follows the notebook on
    # show, says it is idle.
    deadline = time.monotonic() + 60
    while not any(s["path"] == f"{name}.ipynb" and s.get("kernel")
                  for s in lab_api(lab, "sessions")):
        assert time.monotonic() < deadline, f"{name}: JupyterLab started no kernel"
        time.sleep(0.2)
    page.locator(".jp-StatusBar-TextItem", has_text=KERNEL_IDLE).wait_for(timeout=60_000)


def lab_api(lab: dict, path: str) -> list:
    request = urllib.request.Request(f"{lab['base']}/api/{path}",
                                     headers={"Authorization": f"token {lab['token']}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def run_all_in_lab(page, lab: dict, name: str, screenshot: Path) -> dict:
    """Open ``name`` in JupyterLab, Run > Run All Cells, wait, save; the saved notebook."""
    open_in_lab(page, lab, name)
    started = f"""() => Array.from(document.querySelectorAll(
        '{PANEL} .jp-CodeCell .jp-InputArea-prompt'),
        (p) => p.textContent).some((t) => /\\[(\\*|\\d+)\\]/.test(t))"""
    for _ in range(3):  # the menu command is inert until the notebook panel is current
        page.locator(f"{PANEL} .jp-Cell").first.click()
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
        try:
            page.wait_for_function(started, timeout=15_000, polling=POLL_MS)
            break
        except sync_api.TimeoutError:
            page.keyboard.press("Escape")
    else:
        raise AssertionError(f"{name}: Run > Run All Cells did not start")
    page.wait_for_function("""() => {
        const prompts = Array.from(document.querySelectorAll(
            '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt'),
            (p) => p.textContent);
        return prompts.length > 0 && prompts.every((t) => /\\[\\d+\\]/.test(t))
            && document.querySelector(
                '.jp-NotebookPanel:not(.lm-mod-hidden) '
                + '.jp-Notebook-ExecutionIndicator[data-status="idle"]') !== null;
    }""", timeout=180_000, polling=POLL_MS)  # a loaded CI machine runs 07 slowly
    tracebacks = page.locator(
        f'{PANEL} .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]',
        has_text="Traceback")
    assert tracebacks.count() == 0, f"{name}: " + tracebacks.first.inner_text()[:2000]
    saved = lab["notebooks"] / f"{name}.ipynb"
    page.locator(".lm-MenuBar-item", has_text="File").first.click()
    page.locator('.lm-Menu-item[data-command="docmanager:save"]').click()
    nb: dict = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the save may be mid-write when first read
        try:
            nb = json.loads(saved.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            nb = {}
        if nb and all(c.get("execution_count") for c in nb["cells"]
                      if c["cell_type"] == "code"):
            break
        time.sleep(0.2)
    else:
        page.screenshot(path=str(screenshot.with_suffix(".failed.png")))
        raise AssertionError(f"{name}: the saved notebook has unexecuted cells (see "
                             f"{screenshot.with_suffix('.failed.png')})")
    page.screenshot(path=str(screenshot), full_page=False)
    errors = [o for c in nb["cells"] for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, f"{name}: {errors[0]['ename']}: {errors[0]['evalue']}"
    return nb


def search_in_lab(page, screenshot: Path) -> None:
    """The explorer's third tab, as an analyst uses it: pick the training-stage attribute and
    see its table, then type a word, press Enter and see its hit with the code covering it.
    In the repository's synthetic transcripts "therapeutic" occurs once, in P8's published
    quotation "incredibly therapeutic", coded C4.1 (Engaging with PSU support despite
    reservations) by EW and FF."""
    tab = page.locator(f"{PANEL} .widget-tab").first
    tab.locator(".lm-TabBar-tab", has_text="Attributes and text search").click()
    attribute = tab.locator(".widget-dropdown", has_text="Attribute").locator("select")
    attribute.select_option("training_stage")
    tab.locator(".widget-output", has_text="by training stage").wait_for(timeout=30_000)
    search = tab.locator(".widget-text", has_text="Search").locator("input")
    search.fill("THERAPEUTIC")
    search.press("Enter")
    hit = tab.locator(".widget-output", has_text="1 hit(s) of 'THERAPEUTIC'")
    hit.wait_for(timeout=30_000)
    assert "C4.1 Engaging with PSU support despite reservations" in hit.inner_text()
    assert "P8" in hit.inner_text()
    hit.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot))


@pytest.mark.slow
def test_jupyterlab_runs_notebooks_like_the_build(browser, lab, tmp_path):
    """README, section Exploring and reading the report: "Running any notebook top to bottom there
    gives the same results as `make`"."""
    page = browser.new_page()
    elsewhere = watch_requests(page)
    page.set_default_timeout(60_000)
    for name in LAB_NOTEBOOKS:
        run_all_in_lab(page, lab, name, tmp_path / f"lab-{name}.png")
        if name == "07_explore":
            widgets = page.locator(f"{PANEL} .widget-tab, {PANEL} .jupyter-widgets")
            widgets.first.wait_for(state="visible", timeout=30_000)
            page.locator(f"{PANEL} .widget-tab").first.scroll_into_view_if_needed()
            page.screenshot(path=str(tmp_path / "lab-07_explore-widgets.png"))
            search_in_lab(page, tmp_path / "lab-07_explore-search.png")
    page.close()
    assert not elsewhere, f"JupyterLab's page requested other hosts: {elsewhere}"
    # An interactive run writes straight to the (redirected) output folders: the same bytes
    # as the committed outputs of the build.
    written = sorted(p for p in lab["out"].rglob("*") if p.is_file())
    assert written, "running 01_recruitment in JupyterLab wrote no outputs"
    for path in written:
        relative = path.relative_to(lab["out"])
        folder = {"figures": FIGURES_DIR, "tables": TABLES_DIR}[relative.parts[0]]
        committed = folder / Path(*relative.parts[1:])
        assert committed.exists(), f"JupyterLab wrote {relative}, which the build does not"
        assert path.read_bytes() == committed.read_bytes(), \
            f"{relative} differs from the build's output"
    print(f"JupyterLab: {len(written)} outputs identical to the build's; screenshots in "
          f"{tmp_path}")


# --- 3. the paper's HTML edition ------------------------------------------------------------


@pytest.mark.slow
def test_the_html_edition_renders_with_every_figures_alt_text(browser, tmp_path):
    """paper/paper.html (Typst's HTML export of the paper's source), served on 127.0.0.1:
    it loads with no console error and no request elsewhere, every image loads, and every
    figure the paper shows carries its alt text (its sidecar's, figures/<name>.meta.json)."""
    from psu_study import manuscript

    html = RunFolders.of().paper_html
    shown = json.loads((TABLES_DIR / manuscript.DERIVED).read_text(encoding="utf-8"))["figures"]
    alts = {name: json.loads((FIGURES_DIR / f"{name}.meta.json").read_text())["alt"]
            for name in shown}
    assert alts and all(alts.values())
    server = QuietServer((LOOPBACK, 0),
                         functools.partial(QuietHandler, directory=str(html.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = browser.new_page()
        elsewhere = watch_requests(page)
        errors: list[str] = []
        # The browser's own request for /favicon.ico is not the page's: a standalone HTML
        # file has none.
        page.on("console", lambda m: errors.append(f"{m.location.get('url')}: {m.text}")
                if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
                else None)
        page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        url = f"http://{LOOPBACK}:{server.server_address[1]}/{html.name}"
        response = page.goto(url, wait_until="load")
        assert response is not None and response.status == 200
        images = page.evaluate("""() => Array.from(document.querySelectorAll('figure img'),
            (img) => [img.getAttribute('alt'), img.complete && img.naturalWidth > 0])""")
        assert page.title().startswith("Junior doctors")
        page.screenshot(path=str(tmp_path / "paper-html.png"))
        page.close()
    finally:
        server.shutdown()
        server.server_close()
    assert [alt for alt, ok in images if not ok] == [], "images that did not load"
    assert sorted(alt for alt, _ in images) == sorted(alts.values())
    assert not errors, errors
    assert not elsewhere, f"requests to other hosts: {elsewhere}"
