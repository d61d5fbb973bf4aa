"""Plots logged with the benchmark (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cc_sieve.jobs import metrics as M  # noqa: E402


def harm_vs_retention(results, detectors: list[str], path: Path) -> Path:
    """Each recipe as a point: document retention (x) against each harm rate among kept documents (y)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for detector in detectors:
        xs = [r.metrics[M.RETENTION_DOCS] for r in results]
        ys = [r.metrics.get(M.harm(detector, "readable_rate"), 0.0) for r in results]
        axis.plot(xs, ys, "o", label=detector)
    for r in results:
        axis.annotate(r.name, (r.metrics[M.RETENTION_DOCS], max(
            [r.metrics.get(M.harm(d, "readable_rate"), 0.0) for d in detectors] or [0.0])), fontsize=8,
            xytext=(3, 3), textcoords="offset points")
    axis.set_xlabel("documents kept (share of input)")
    axis.set_ylabel("flagged among kept documents it reads")
    axis.set_title("Harm rate against retention, per recipe")
    if detectors:
        axis.legend(fontsize=7, loc="best")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def removals_by_rule(recipe: str, table: list[dict], path: Path) -> Path:
    """Horizontal bars: documents removed by each rule first, and by each rule at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = sorted(table, key=lambda r: r["removed_any"])
    height = max(2.5, 0.35 * len(rows) + 1.2)
    figure, axis = plt.subplots(figsize=(7, height))
    names = [r["rule"] for r in rows]
    positions = range(len(rows))
    axis.barh([p + 0.2 for p in positions], [r["removed_any"] for r in rows], height=0.4, label="any rule",
              color="#9ecae1")
    axis.barh([p - 0.2 for p in positions], [r["removed_first"] for r in rows], height=0.4, label="first rule",
              color="#3182bd")
    axis.set_yticks(list(positions), names, fontsize=8)
    axis.set_xlabel("documents removed")
    axis.set_title(f"Removals by rule: {recipe}")
    if rows:
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
