"""What every bench measures with: a Measurement row, wall and CPU timers, sizes, and the ratio table."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass


@dataclass
class Measurement:
    stage: str
    implementation: str
    reference: bool
    documents: int
    megabytes: float
    seconds: float
    on: str = ""  # what was measured: which shard(s), how many documents, how many cores
    peak_python_mb: float | None = None
    peak_jvm_mb: float | None = None

    @property
    def docs_per_second(self) -> float:
        return self.documents / self.seconds if self.seconds else 0.0

    @property
    def mb_per_second(self) -> float:
        return self.megabytes / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "docs_per_second": self.docs_per_second, "mb_per_second": self.mb_per_second}


def timed(function: Callable[[], object]) -> tuple[object, float]:
    """(result, wall seconds)."""
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def cpu_timed(function: Callable[[], object]) -> tuple[object, float]:
    """(result, CPU seconds of this process): a single-core figure whatever else runs on the machine."""
    started = time.process_time()
    result = function()
    return result, time.process_time() - started


def megabytes(texts: Iterable[str | None]) -> float:
    """UTF-8 megabytes of the texts (lone surrogates counted as they would be written)."""
    return sum(len((text or "").encode("utf-8", "surrogatepass")) for text in texts) / 1e6


def ratio_table(measurements: list[Measurement]) -> str:
    """One line per measurement; `x ref` is docs/s over the reference row of the same stage."""
    header = (f"{'stage':<12} {'implementation':<46} {'docs':>8} {'docs/s':>9} {'MB/s':>7} {'x ref':>6} "
              f"{'py MB':>6} {'JVM MB':>6}  measured on")
    lines = [header, "-" * len(header)]
    for stage in dict.fromkeys(m.stage for m in measurements):
        rows = [m for m in measurements if m.stage == stage]
        reference = next((m for m in rows if m.reference), None)
        for m in rows:
            ratio = (f"{m.docs_per_second / reference.docs_per_second:.2f}"
                     if reference and reference.docs_per_second and m is not reference else "ref" if m.reference
                     else "")
            python = f"{m.peak_python_mb:,.0f}" if m.peak_python_mb is not None else ""
            jvm = f"{m.peak_jvm_mb:,.0f}" if m.peak_jvm_mb is not None else ""
            lines.append(f"{stage:<12} {m.implementation[:46]:<46} {m.documents:>8,} {m.docs_per_second:>9,.0f} "
                         f"{m.mb_per_second:>7,.1f} {ratio:>6} {python:>6} {jvm:>6}  {m.on}")
    return "\n".join(lines)
