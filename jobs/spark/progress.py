"""A progress line per stage while it runs, from Spark's status tracker: tasks done of all, documents per second,
time elapsed and left. Each stage's Spark jobs run under a job group named for the stage, so the line counts
that stage's tasks only.

    with StageProgress(spark, "annotate", documents=716):
        ...  # Spark actions
"""

from __future__ import annotations

import sys
import threading
import time

from pyspark.sql import SparkSession

INTERVAL_SECONDS = 10.0


def clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


class StageProgress:
    """Prints `[stage] tasks done/total | docs/s | elapsed | left` every INTERVAL_SECONDS to stderr, and a last
    line when the stage ends."""

    def __init__(self, spark: SparkSession, stage: str, documents: int | None = None,
                 interval: float = INTERVAL_SECONDS):
        self.context = spark.sparkContext
        self.stage, self.documents, self.interval = stage, documents, interval
        self.group = f"cc-sieve-{stage}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def tasks(self) -> tuple[int, int]:
        """(completed, total) tasks of the stage's jobs so far."""
        tracker = self.context.statusTracker()
        done = total = 0
        for job_id in tracker.getJobIdsForGroup(self.group):
            job = tracker.getJobInfo(job_id)
            for stage_id in job.stageIds if job else ():
                info = tracker.getStageInfo(stage_id)
                if info:
                    done += info.numCompletedTasks
                    total += info.numTasks
        return done, total

    def line(self) -> str:
        elapsed = time.monotonic() - self._started
        done, total = self.tasks()
        parts = [f"[{self.stage}] tasks {done}/{total}" if total else f"[{self.stage}] starting",
                 f"{clock(elapsed)} elapsed"]
        if total and done:
            share = done / total
            if self.documents:
                parts.insert(1, f"~{self.documents * share / elapsed:,.0f} docs/s")
            if done < total:
                parts.append(f"~{clock(elapsed * (1 - share) / share)} left")
        return " | ".join(parts)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            print(self.line(), file=sys.stderr, flush=True)

    def __enter__(self) -> StageProgress:
        self._started = time.monotonic()
        self.context.setJobGroup(self.group, self.stage, interruptOnCancel=False)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.context.setLocalProperty("spark.jobGroup.id", None)
