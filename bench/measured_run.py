"""One measured benchmark run: a JSON spec, a fresh Python process, its cost and the result it wrote.

The child is ``python -m MODULE SPEC.json RESULT.json`` with the repository on its path; it writes its
own outcome (stage times from its runner's records) to RESULT.json. Measured here: wall seconds from
spawn to exit, CPU seconds of the child and every descendant it waited for (``wait4``), the peak RSS
of the largest single process (``ru_maxrss``) and of the whole process tree (sampled), the CPU the rest
of the machine used meanwhile, and the 1-minute load before and after.
"""

import json
import os
import subprocess
import sys
import threading
import time

import psutil

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_busy_seconds() -> float:
    """CPU seconds every process on the machine has used so far (/proc/stat)."""
    times = psutil.cpu_times()  # Linux: guest time is already counted in user time
    return times.user + times.nice + times.system + times.irq + times.softirq + times.steal


class TreeRss:
    """Samples the summed RSS of a process and its descendants every ``period`` seconds; keeps the peak."""

    def __init__(self, pid: int, period: float = 0.5):
        self.peak = 0
        self._pid, self._period, self._stop = pid, period, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(self._period):
            try:
                root = psutil.Process(self._pid)
                total = 0
                for p in [root] + root.children(recursive=True):
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, total)
            except psutil.Error:
                return

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def run_measured(module: str, spec: dict, workdir: str, label: str) -> dict:
    """Runs ``module`` on ``spec`` in ``workdir`` (created); returns its cost and ``result``, its outcome.

    Raises:
        SystemExit: the child failed or wrote no result (``label`` and its log named).
    """
    os.makedirs(workdir)
    spec_path, result_path = os.path.join(workdir, "spec.json"), os.path.join(workdir, "result.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    load_before, busy_before = os.getloadavg()[0], cpu_busy_seconds()
    python_path = os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    with open(os.path.join(workdir, "run.log"), "w") as log:
        spawned = time.time()
        process = subprocess.Popen([sys.executable, "-W", "ignore", "-m", module, spec_path, result_path],
                                   cwd=workdir, env={**os.environ, "PYTHONPATH": python_path},
                                   stdout=log, stderr=subprocess.STDOUT)
        sampler = TreeRss(process.pid)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.time() - spawned
        tree_peak = sampler.stop()
    cpu = usage.ru_utime + usage.ru_stime  # the child and every descendant it waited for
    code = os.waitstatus_to_exitcode(status)
    if code != 0 or not os.path.exists(result_path):
        raise SystemExit(f"{label} failed with exit code {code}; see {workdir}/run.log")
    with open(result_path) as f:
        result = json.load(f)
    return {"spawned": spawned, "wall_s": wall, "cpu_s": cpu,
            "peak_rss_mib": usage.ru_maxrss / 1024,  # KiB on Linux
            "peak_tree_rss_mib": tree_peak / 2**20,
            "others_cpu_s": max(0.0, cpu_busy_seconds() - busy_before - cpu),
            "load_before": load_before, "load_after": os.getloadavg()[0], "result": result}
