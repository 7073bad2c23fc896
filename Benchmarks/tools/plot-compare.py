#!/usr/bin/env python3
"""Chart of perf/bench-server.sh's CSV: one panel per durability mode, grouped bars of
swiftcask/redis throughput ratio and CPU-per-request ratio for every (pipeline, test), with the
targets (1.0 and 0.8) drawn as lines. Usage: plot-compare.py RESULTS.csv CHART.png"""
import csv, sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

THROUGHPUT_TARGET = 1.0
CPU_TARGET = 0.8

def main():
    source, chart = sys.argv[1], sys.argv[2]
    rows = list(csv.DictReader(open(source)))
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    figure, axes = plt.subplots(len(modes), 1, figsize=(11, 3.6 * len(modes)), squeeze=False)
    for axis, mode in zip(axes[:, 0], modes):
        selected = [r for r in rows if r["mode"] == mode]
        labels = [f'{r["test"]} P{r["pipeline"]}' for r in selected]
        positions = range(len(selected))
        width = 0.4
        axis.bar([p - width / 2 for p in positions], [float(r["rps_ratio"]) for r in selected], width,
                 label="req/s ratio (higher is better)")
        axis.bar([p + width / 2 for p in positions], [float(r["cpu_ratio"]) for r in selected], width,
                 label="CPU µs/request ratio (lower is better)")
        axis.axhline(THROUGHPUT_TARGET, color="tab:blue", linestyle="--", linewidth=1)
        axis.axhline(CPU_TARGET, color="tab:orange", linestyle="--", linewidth=1)
        axis.set_xticks(list(positions), labels, rotation=30, ha="right")
        axis.set_ylabel("swiftcask / redis")
        axis.set_title(f"appendfsync {mode}")
        axis.legend(loc="upper right", fontsize="small")
    figure.tight_layout()
    figure.savefig(chart, dpi=110)

if __name__ == "__main__":
    main()
