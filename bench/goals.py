"""The goals each benchmark row is held to, the warning lines for rows below them, and `latest.json` for tools.

A benchmark records its rows with `results.ratio(...)` (a ratio to its baseline in the same run, higher is
better) or `results.value(...)` (a plain number, such as a latency or a CPU cost, lower is better). At the
end of the run `results.finish(report, path)` prints one WARNING line per row that misses its goal and
writes every row of the run to `path` as `{"row": {"ratio" or "value": …, "goal": …, …}}`.
"""

import json
from dataclasses import dataclass, field

# The goals of issue 13: ratios to the baseline measured in the same run (at least), and costs (at most).
RATIO_GOALS = {
    "webhook_delivery": 0.5,
    "project_retrieve": 0.7,
    "project_list_100": 0.5,
    "render_retrieve": 0.7,
}
VALUE_GOALS = {
    "webhook_cpu_ms_per_delivery": 2.0,
    "submit_to_rendering_p50_ms": 100,
}


@dataclass
class Row:
    name: str
    kind: str  # "ratio" (higher is better) or "value" (lower is better)
    measured: float
    goal: float | None
    extra: dict = field(default_factory=dict)

    @property
    def missed(self):
        if self.goal is None:
            return False
        return self.measured < self.goal if self.kind == "ratio" else self.measured > self.goal

    @property
    def unit(self):
        return "×" if self.kind == "ratio" else ""

    @property
    def shown(self):
        """Three significant digits, more where fewer would read as the goal a row misses (0.4996×, not 0.5×)."""
        digits = 3
        while digits < 6 and self.missed and float(f"{self.measured:.{digits}g}") == self.goal:
            digits += 1
        return f"{self.measured:.{digits}g}{self.unit}"

    def as_json(self):
        return {self.kind: round(self.measured, 3), "goal": self.goal, **self.extra}


class BenchResults:
    """The rows one run measured, in the order they were recorded."""

    def __init__(self):
        self.rows = {}

    def ratio(self, name, ratio, *, goal=None, **extra):
        """A ratio to a baseline of the same run; `extra` (a range, the raw numbers) goes into the JSON as it is."""
        self.rows[name] = Row(name, "ratio", ratio, goal if goal is not None else RATIO_GOALS.get(name), extra)

    def value(self, name, value, *, goal=None, **extra):
        """A cost (milliseconds, MiB) that should stay at or under its goal."""
        self.rows[name] = Row(name, "value", value, goal if goal is not None else VALUE_GOALS.get(name), extra)

    def warnings(self):
        lines = []
        for row in self.rows.values():
            if row.missed:
                relation = "below" if row.kind == "ratio" else "above"
                lines.append(f"WARNING: {row.name} is {row.shown}, {relation} its goal of {row.goal:g}{row.unit}.")
        return lines

    def finish(self, report, path):
        """Print the goals table and a warning line per missed goal, and write the rows to `path` (JSON)."""
        if self.rows:
            report.line()
            report.line("Goals (issue 13): each row beside its goal")
            report.table(
                ["row", "measured", "goal", ""],
                [
                    [
                        row.name,
                        row.shown,
                        "-" if row.goal is None else f"{'≥' if row.kind == 'ratio' else '≤'} {row.goal:g}",
                        "MISSED" if row.missed else ("met" if row.goal is not None else ""),
                    ]
                    for row in self.rows.values()
                ],
            )
            for line in self.warnings():
                report.line(line)
        path.write_text(json.dumps({name: row.as_json() for name, row in self.rows.items()}, indent=2) + "\n")
