"""The comparison report: numbers to sentences, self-contained HTML, and a real render in headless Chromium."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from experiments import figures
from experiments.compare import Arm, Effect, compare_runs
from experiments.report import METRICS, STRATEGY_GROUP, arm_metrics
from experiments.wording import arm_title, summary_sentence
from sim.policies.registry import policy_specs
from sim.results import write_run
from sim.stats import PairedDifference, PairedWDQ
from tests.experiments.fakes import fake_result, fake_survey, fixture_network, write_fake_sweep
from tests.experiments.offline import assert_offline

CHROMIUM = Path("/usr/bin/chromium")
POLICIES = ("baseline", "targeted_patrol", "community_meetings", "targeted_patrol+cpted")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="headless Chromium not installed (Debian package 'chromium': apt-get install chromium)",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sweep")
    write_fake_sweep(root, policies=POLICIES, seeds=range(4))
    return compare_runs(root)


def test_report_is_self_contained(report: Path) -> None:
    page = report.read_text()
    tags = assert_offline(page)
    images = [attrs["src"] or "" for tag, attrs in tags if tag == "img"]
    # baseline map, per policy a difference map and a treatment map, two time series, survey, officer hours
    assert len(images) == 1 + 2 * (len(POLICIES) - 1) + 2 + 1 + 1
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1], validate=True)[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(attrs.get("alt") for tag, attrs in tags if tag == "img"), "every image is described"


def test_report_contents(report: Path) -> None:
    page = report.read_text()
    assert "© OpenStreetMap contributors (ODbL)" in page
    assert "Targeted patrol:</strong> −" in page, "the summary leads with each strategy's effect"
    assert "crime on treated streets (95% CI" in page
    assert "WDQ" in page and "officer-hours/month" in page
    assert "Seeds 0–3" in page and "1.0 simulated days" not in page
    assert "Methods." in page and "common random numbers" in page
    for header in ("Baseline (mean)", "Difference (unit; 95% CI)", "Change (%; 95% CI)", "Unit"):
        assert header in page
    assert "By neighbourhood" in page and "How officers spend their time" in page


def test_report_shows_the_survey_with_its_sampling_error(report: Path) -> None:
    page = report.read_text()
    section = page.split('<h2 id="survey">', 1)[1].split("<h2", 1)[0]
    assert "approaches about 300 residents" in section and "40% answer" in section
    assert "alt='Perception survey waves per strategy'" in section
    assert "Trust in police, last survey&#x27;s estimate" in page, (
        "the last wave's estimates are in the effects tables"
    )


def test_report_says_when_runs_have_no_survey(tmp_path: Path) -> None:
    net = fixture_network()
    for policy in ("baseline", "targeted_patrol"):
        for seed in range(2):
            result = dataclasses.replace(fake_result(net, policy, seed), survey=fake_survey(seed, -1.0))
            assert result.survey.empty, "a run with survey.enabled=false writes an empty survey table"
            write_run(tmp_path / f"policy={policy},seed={seed}", result, wall_time_s=1.0)
    page = compare_runs(tmp_path).read_text()
    assert "No perception survey in these runs" in page


def _arm_sections(page: str) -> dict[str, str]:
    """The arm sections of a report page by arm label (anchors are ``arm-`` + the label's alphanumerics)."""
    parts = re.split(r"<h2 id='arm-([^']*)'>", page)
    return {anchor: body.split("<h2")[0] for anchor, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_each_arm_shows_its_strategies_own_measures(report: Path) -> None:
    sections = _arm_sections(report.read_text())
    specs = {spec.name: spec for spec in policy_specs()}
    assert len(sections) == len(POLICIES) - 1
    everyone = {row.label for spec in specs.values() for row in spec.report_rows}
    assert everyone, "no registered strategy has report rows"
    for arm in POLICIES[1:]:
        body = sections[re.sub("[^0-9A-Za-z]", "-", arm)]
        mine = {row.label for name in arm.split("+") for row in specs[name].report_rows}
        assert (STRATEGY_GROUP in body) == bool(mine)
        if mine:
            assert body.index("Total cost") < body.index(STRATEGY_GROUP), "after the base rows"
        for label in mine:  # the reference runs did none of it: their column reads 0
            row = rf"<td>{re.escape(label)}</td><td class='text'>[^<]*</td><td title='[^']+'>0\.0</td>"
            assert re.search(row, body), label
        assert not [label for label in everyone - mine if f"<td>{label}</td>" in body]


def test_arm_metrics_follow_the_registry() -> None:
    import pandas as pd

    runs = pd.DataFrame({"run_dir": [], "seed": []})
    specs = [s for s in policy_specs() if s.report_rows]
    for spec in specs:
        rows = arm_metrics(Arm(spec.name, spec.name, {}, runs))
        assert rows[: len(METRICS)] == METRICS
        assert rows[len(METRICS)] == ("#", STRATEGY_GROUP, "", 0)
        assert [r[0] for r in rows[len(METRICS) + 1 :]] == [r.metric for r in spec.report_rows]
    reference = next(s for s in policy_specs() if s.reference)
    assert arm_metrics(Arm(reference.name, reference.name, {}, runs)) == METRICS + (
        [
            ("#", STRATEGY_GROUP, "", 0),
            *[(r.metric, r.label, r.unit, r.better) for r in reference.report_rows],
        ]
        if reference.report_rows
        else []
    )
    assert arm_metrics(Arm("no_such_strategy", "no_such_strategy", {}, runs)) == METRICS


def test_maps_carry_the_osm_attribution() -> None:
    net = fixture_network()
    _fig, ax = figures._map_axes(net, "test")
    assert figures.ATTRIBUTION in [t.get_text() for t in ax.texts]


def _diff(pct: float, low: float, high: float, n: int = 10) -> PairedDifference:
    return PairedDifference(n, 90.0, 100.0, pct, low, high, 0.01, pct, low, high, "delta", 0.95)


def test_summary_sentence_is_made_from_the_numbers() -> None:
    import pandas as pd

    arm = Arm("targeted_patrol", "targeted_patrol", {}, pd.DataFrame({"run_dir": [], "seed": []}))
    hours = PairedDifference(10, 200.0, 50.0, 150.0, 140.0, 160.0, 0.0, 300.0, 280.0, 320.0, "delta", 0.95)
    effects = {
        "crimes_in_treated": Effect("crimes_in_treated", _diff(-9.0, -12.0, -6.0), []),
        "crimes_total": Effect("crimes_total", _diff(-2.0, -4.0, 1.0), []),
        "officer_hours_dwell": Effect("officer_hours_dwell", hours, []),
    }
    wdq = PairedWDQ(0.2, -0.1, 0.5, -0.05, -0.01, 30.0, 10, 4000, (), 0.95)
    text = summary_sentence(arm, effects, wdq, days=14.0)
    assert text.startswith("<strong>Targeted patrol:</strong> ")
    assert "−9% crime on treated streets (95% CI −12% to −6%)" in text
    assert "−2% crime overall (95% CI −4% to +1%: no clear change)" in text
    assert "no significant displacement to nearby streets (WDQ 0.20, 95% CI −0.10 to 0.50)" in text
    assert "uses 321 officer-hours/month for stops and hot-spot visits" in text  # 150 h in 14 days

    displaced = PairedWDQ(-0.6, -0.9, -0.3, -0.05, 0.03, 5.0, 10, 4000, (), 0.95)
    assert "displacement: some crime moved to nearby streets" in summary_sentence(
        arm, effects, displaced, 14.0
    )
    worse = {**effects, "crimes_in_treated": Effect("crimes_in_treated", _diff(5.0, 1.0, 9.0), [])}
    assert "displacement not assessable (no clear fall on treated streets)" in summary_sentence(
        arm, worse, PairedWDQ(0.1, -1, 1, 0.02, 0.0, -3.0, 10, 4000, (), 0.95), 14.0
    )
    # a clear fall on the treated streets, but a success measure (relative to control) whose interval
    # reaches 0: the ratio is unbounded, as problem solving's 11.60 (-1040.87 to 32.19) was
    unclear = PairedWDQ(11.6, -1040.87, 32.19, -0.01, -0.1, 4.0, 10, 4000, (), 0.95, -0.03, 0.004)
    text = summary_sentence(arm, effects, unclear, 14.0)
    assert "displacement not assessable (no clear fall on treated streets relative to the control" in text
    assert "11.60" not in text
    clear = PairedWDQ(0.2, -0.1, 0.5, -0.05, -0.01, 30.0, 10, 4000, (), 0.95, -0.08, -0.02)
    assert "no significant displacement to nearby streets (WDQ 0.20" in summary_sentence(
        arm, effects, clear, 14.0
    )


def test_arm_titles() -> None:
    assert arm_title("targeted_patrol+cpted") == "Targeted patrol + CPTED"
    assert arm_title("baseline") == "Baseline (random patrol)"
    assert arm_title("cpted [sim_days=7.0]") == "CPTED (street design) [sim_days=7.0]"
    assert arm_title("community_meetings") == "Community meetings"
    assert arm_title("targeted_patrol+community_meetings") == "Targeted patrol + Community meetings"
    assert arm_title("no_such_strategy") == "No such strategy"
    assert arm_title("cpted+no_such_strategy [x=1]") == "CPTED + No such strategy [x=1]"


HARNESS = """<!DOCTYPE html><html><body><iframe id="r" src="REPORT" width="1280" height="2000"></iframe>
<script>
document.getElementById('r').addEventListener('load', () => {
  const doc = document.getElementById('r').contentDocument;
  const imgs = Array.from(doc.images);
  const res = doc.defaultView.performance.getEntriesByType('resource').map(e => e.name);
  document.body.setAttribute('data-result', JSON.stringify({
    images: imgs.length,
    rendered: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
    resources: res.filter(n => !n.startsWith('data:')),
    // the colour every "better" / "worse" cell is painted with (the legend promises green / red)
    shaded: Array.from(doc.querySelectorAll('td.good, td.bad, tr.good td, tr.bad td'))
      .map(td => doc.defaultView.getComputedStyle(td).backgroundColor),
  }));
});
</script></body></html>"""


@needs_chromium
def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    base = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip
    shot = tmp_path / "report.png"
    run = subprocess.run(
        [*base, f"--screenshot={shot}", "--window-size=1280,4000", report.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert shot.is_file(), run.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.float64)
    assert pixels.shape == (4000, 1280, 3)
    non_white = (pixels < 245).any(axis=2).mean()
    assert non_white > 0.03, "the page rendered (mostly) blank"
    colourful = (pixels.max(axis=2) - pixels.min(axis=2) > 60).mean()
    assert colourful > 0.002, "no coloured map or chart pixels on the first 4000 px"

    harness = tmp_path / "harness.html"
    harness.write_text(HARNESS.replace("REPORT", report.resolve().as_uri()))
    dom = subprocess.run(
        [*base, "--allow-file-access-from-files", "--virtual-time-budget=15000", "--dump-dom", harness.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    found = re.search(r"data-result=\"([^\"]*)\"", dom.stdout)
    assert found, dom.stdout[-2000:] + dom.stderr[-2000:]
    result = json.loads(found.group(1).replace("&quot;", '"'))
    assert result["images"] == report.read_text().count("<img ")
    assert result["rendered"] == result["images"], "every image decodes and renders"
    assert result["resources"] == [], f"the report requested {result['resources']}"
    # significant cells of the at-a-glance table and rows of the detail tables are shaded, not white
    assert len(result["shaded"]) >= len(re.findall(r"<td class='good'[ >]", report.read_text())) > 0
    assert set(result["shaded"]) <= {"rgb(234, 246, 234)", "rgb(253, 236, 234)"}, set(result["shaded"])


def test_unpaired_runs_are_left_out_and_named(tmp_path: Path) -> None:
    write_fake_sweep(tmp_path, policies=("baseline",), seeds=range(2))
    write_fake_sweep(tmp_path, policies=("targeted_patrol",), seeds=range(4))
    page = compare_runs(tmp_path).read_text()
    assert "Targeted patrol: 2 run(s) (seeds 2, 3) have no baseline run with the same seed" in page
    assert "Means over 2 paired replications" in page


def test_report_says_the_city_is_not_calibrated(report: Path) -> None:
    page = report.read_text()
    assert "Not calibrated:" in page and "precinct calibrate" in page


def _few_crime_sweep(root: Path, crimes_per_run: int) -> None:
    """A baseline and a targeted-patrol arm whose runs have ``crimes_per_run`` crimes on segment 0."""
    from sim.results import write_run
    from tests.experiments.fakes import fake_result

    net = fixture_network()
    for policy in ("baseline", "targeted_patrol"):
        for seed in range(3):
            result = fake_result(net, policy, seed)
            counts = np.zeros(net.n_segments, dtype=np.int64)
            counts[:crimes_per_run] = 1
            result.segments["crimes"] = counts
            write_run(root / f"policy={policy},seed={seed}", result, wall_time_s=1.0)


def test_concentration_row_is_not_estimable_with_fewer_crimes_than_top_streets(tmp_path: Path) -> None:
    # 27 segments: the top 5% are 2 segments, and one crime per run is all on them by arithmetic
    _few_crime_sweep(tmp_path, crimes_per_run=1)
    page = compare_runs(tmp_path).read_text()
    row = re.search(r"<td>Share of crime on the top 5% of streets, above chance</td>.*?</tr>", page)
    assert row, "the row is shown, with the reason it has no number"
    assert "not estimable: a run had 1 crimes, fewer than the top 5% of streets (2 segments)" in row.group(0)
    assert "1.000" not in row.group(0)


def test_concentration_row_is_shown_against_chance(report: Path) -> None:
    body = _arm_sections(report.read_text())["targeted-patrol"]
    row = re.search(r"<td>Share of crime on the top 5% of streets, above chance</td>(.*?)</tr>", body)
    assert row and "not estimable" not in row.group(1)
    # baseline and strategy columns are shares above chance: small numbers, not the raw 1.000
    values = re.findall(r"<td[^>]*>(−?\d\.\d{3})</td>", row.group(1))
    assert len(values) == 2 and all(abs(float(v.replace("−", "-"))) < 0.5 for v in values)


# Appended to a copy of the report: hovers the map until a street is shown, sorts the hot-spot table,
# clicks "Download CSV" (capturing the file instead of saving it) and lists every request the page made.
PROBE = """<script>
function deep(root, sel, out) {
  root.querySelectorAll(sel).forEach(e => out.push(e));
  root.querySelectorAll('*').forEach(e => { if (e.shadowRoot) deep(e.shadowRoot, sel, out); });
  return out;
}
window.addEventListener('load', () => setTimeout(() => {
  const info = {tries: 0};
  const finish = () => {
    info.tooltip = deep(document, '.bk-tooltip-content', []).map(e => e.textContent).join(' / ');
    info.readout = document.getElementById('map-readout').textContent;
    const table = document.getElementById('hotspots');
    const column = Array.from(table.querySelectorAll('th')).findIndex(th => th.textContent.startsWith('Crimes'));
    const values = () => Array.from(table.tBodies[0].rows).map(r => Number(r.cells[column].getAttribute('data-v')));
    table.querySelectorAll('th')[column].click();
    info.ascending = values();
    table.querySelectorAll('th')[column].click();
    info.descending = values();
    let blob = null;
    URL.createObjectURL = (b) => { blob = b; return 'data:text/csv,'; };
    HTMLAnchorElement.prototype.click = function () { info.download = this.download; };
    document.querySelector("button.csv[data-table='hotspots']").click();
    blob.text().then((text) => {
      info.csv = text;
      info.resources = performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith('data:'));
      document.body.setAttribute('data-result', JSON.stringify(info));
    });
  };
  const events = deep(document, '.bk-events', [])[0];
  if (!events) { finish(); return; }
  const readout = document.getElementById('map-readout');
  const start = readout.textContent;
  const r = events.getBoundingClientRect();
  const points = [];
  for (let gy = 0.05; gy < 1; gy += 0.04) for (let gx = 0.05; gx < 1; gx += 0.04) points.push([r.left + gx * r.width, r.top + gy * r.height]);
  const step = (k) => {
    if (readout.textContent !== start || k >= points.length) { finish(); return; }
    const [x, y] = points[k];
    info.tries++;
    for (const type of ['pointerover', 'pointerenter', 'pointermove']) {
      events.dispatchEvent(new PointerEvent(type, {clientX: x, clientY: y, bubbles: true, composed: true,
                                                   pointerType: 'mouse', isPrimary: true, pointerId: 1}));
    }
    setTimeout(() => step(k + 1), 30);
  };
  step(0);
}, 1000));
</script>"""


@needs_chromium
def test_interactive_map_tables_and_csv_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    import io

    import pandas as pd

    page = report.read_text()
    assert page.count("</body>") == 1
    probe = tmp_path / "report_probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"))
    run = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1280,1200", "--virtual-time-budget=60000", "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    found = re.search(r"data-result=\"([^\"]*)\"", run.stdout)
    assert found, run.stdout[-2000:] + run.stderr[-2000:]
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    names = set(fixture_network().segment_name)
    street = result["readout"].split(" (OSM way ")[0]
    assert street in names, f"hovering the map showed {result['readout']!r} after {result['tries']} moves"
    assert f"Street: {street}" in result["tooltip"] and "Baseline crimes / week" in result["tooltip"]
    assert result["ascending"] == sorted(result["ascending"]) and len(result["ascending"]) >= 2
    assert result["descending"] == sorted(result["ascending"], reverse=True)
    assert result["download"] == "hotspots.csv"
    csv = pd.read_csv(io.StringIO(result["csv"]))
    assert {"street", "osm_way_id", "baseline_crimes_week", "baseline_crimes_week_low"} <= set(csv.columns)
    assert set(csv["street"]) <= names and len(csv) == len(result["ascending"])
    assert result["resources"] == [], f"the report requested {result['resources']}"


@needs_chromium
def test_report_prints_to_pdf(report: Path, tmp_path: Path) -> None:
    from experiments.printing import print_pdf

    pdf = print_pdf(report, tmp_path / "report.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 5, "the whole report, over several pages"
    # every figure of the report is in it (the interactive map prints as well, as a picture)
    assert len(re.findall(rb"/Subtype\s*/Image", data)) >= report.read_text().count("<img ")


def test_pdf_without_chromium_is_a_clear_error(
    report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from experiments.printing import print_pdf
    from sim.errors import ResultsError

    monkeypatch.setenv("PRECINCT_CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.raises(ResultsError, match=r"no Chromium to print report\.html to PDF: install it"):
        print_pdf(report)
    assert not (tmp_path / "report.pdf").exists()


NUMBER = re.compile(r"^[+\-−]?\d")


def _numeric_cells(page: str) -> list[tuple[str, str]]:
    """Return (title, text) of every table cell of the page whose text starts with a number."""
    from html.parser import HTMLParser

    cells: list[tuple[str, str]] = []

    class Cells(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.open: list[tuple[str, list[str]]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "td":
                self.open.append((dict(attrs).get("title") or "", []))

        def handle_data(self, data: str) -> None:
            if self.open:
                self.open[-1][1].append(data)

        def handle_endtag(self, tag: str) -> None:
            if tag == "td" and self.open:
                title, text = self.open.pop()
                joined = "".join(text).strip()
                if NUMBER.match(joined):
                    cells.append((title, joined))

    Cells().feed(page)
    return cells


def test_every_number_in_the_report_tables_says_how_it_was_computed(report: Path) -> None:
    page = report.read_text()
    cells = _numeric_cells(page)
    # the at-a-glance, measures, value-for-money, neighbourhood and streets tables all hold numbers
    assert len(cells) > 200
    untitled = [text for title, text in cells if not title.strip()]
    assert not untitled, f"{len(untitled)} numbers without a tooltip, e.g. {untitled[:5]}"
    titles = {title for title, _ in cells}
    assert any("last survey wave" in t for t in titles), "the survey rows say they are the survey's estimate"
    assert any("OpenStreetMap way id" in t for t in titles) and any("Fieller" in t for t in titles)
    assert any(t.startswith("Residents' mean trust") for t in titles)  # the at-a-glance trust cells


def test_a_significant_small_change_never_reads_as_zero() -> None:
    from experiments.report import _glance_cell
    from experiments.wording import ci_digits

    tiny = PairedDifference(10, 0.6003, 0.6, 0.0003, 0.0001, 0.0005, 0.01, 0.05, 0.02, 0.08, "delta", 0.95)
    cell = _glance_cell(Effect("mean_trust_end", tiny, []), pct=False, digits=3, better=1, how="how")
    assert "class='good'" in cell and "title='how'" in cell
    assert "+0.00030<span class='ci'>+0.00010 to +0.00050</span>" in cell
    assert "0.000<" not in cell
    # a change that is not significant keeps the column's usual decimals, and so does a large one
    assert ci_digits(-0.0001, 0.0005, 3) == 3 and ci_digits(0.02, 0.05, 3) == 3
    # community meetings' trust change once printed "+0.006 (+0.006 to +0.006)": a narrow interval
    narrow = PairedDifference(10, 0.606, 0.6, 0.0062, 0.0058, 0.0066, 1.0, 1.1, 0.9, 1.2, "delta", 0.95)
    cell = _glance_cell(Effect("mean_trust_end", narrow, []), pct=False, digits=3, better=1, how="how")
    assert "+0.0062<span class='ci'>+0.0058 to +0.0066</span>" in cell
    pct = _glance_cell(Effect("crimes_total", tiny, []), pct=True, digits=1, better=-1, how="how")
    assert "+0.050%<span class='ci'>+0.020% to +0.080%</span>" in pct and "class='bad'" in pct
    # and so does the one-sentence summary above the table
    import pandas as pd

    arm = Arm("community_meetings", "community_meetings", {}, pd.DataFrame({"run_dir": [], "seed": []}))
    sentence = summary_sentence(arm, {"mean_trust_end": Effect("mean_trust_end", narrow, [])}, None, 7.0)
    assert "trust in police +0.0062 on a 0–1 scale (95% CI +0.0058 to +0.0066)" in sentence, sentence
