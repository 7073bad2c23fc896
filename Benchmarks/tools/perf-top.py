#!/usr/bin/env python3
"""Top functions from `perf script` output (stdin), optionally only for samples whose stack
passes through a frame matching --within (a regex): self %, and inclusive % with --inclusive.
Also writes folded stacks (for flamegraph.pl / inferno) with --folded FILE. Demangles Swift
symbols through `swift demangle --simplified` when it is on PATH."""
import argparse, collections, re, shutil, subprocess, sys

def demangle_all(names):
    if not shutil.which("swift"):
        return {n: n for n in names}
    names = list(names)
    out = subprocess.run(["swift", "demangle", "--simplified", "--compact"], input="\n".join(names),
                         capture_output=True, text=True).stdout.split("\n")
    return {n: (out[i] if i < len(out) and out[i] else n) for i, n in enumerate(names)}

def short(name, width):
    name = re.sub(r"\s+", " ", name)
    return name if len(name) <= width else name[: width - 1] + "…"

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--within", help="keep samples whose stack has a frame matching this regex (mangled or demangled)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--folded")
    parser.add_argument("--width", type=int, default=110)
    args = parser.parse_args()

    samples = []  # list of (comm, [leaf..root])
    comm, frames = None, []
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line.strip():
            if comm is not None:
                samples.append((comm, frames))
            comm, frames = None, []
            continue
        if not line.startswith((" ", "\t")):
            comm = line.split()[0]
            frames = []
        else:
            parts = line.strip().split(None, 1)
            if len(parts) == 2:
                symbol = re.sub(r"\+0x[0-9a-f]+$", "", parts[1].split(" (")[0])
                frames.append(symbol)
    if comm is not None:
        samples.append((comm, frames))

    names = {f for _, fr in samples for f in fr}
    demangled = demangle_all(names)
    within = re.compile(args.within) if args.within else None
    selected = []
    for comm, fr in samples:
        if within and not any(within.search(f) or within.search(demangled.get(f, f)) for f in fr):
            continue
        selected.append((comm, fr))
    total = len(selected)
    if total == 0:
        print("no samples matched")
        return
    selfc, incl = collections.Counter(), collections.Counter()
    for comm, fr in selected:
        leaf = fr[0] if fr else "[unknown]"
        selfc[leaf] += 1
        for f in set(fr):
            incl[f] += 1
    print(f"{total} samples{' within ' + args.within if within else ''}")
    print(f"{'self %':>7} {'incl %':>7}  function")
    for name, count in selfc.most_common(args.top):
        print(f"{100.0 * count / total:7.2f} {100.0 * incl[name] / total:7.2f}  {short(demangled.get(name, name), args.width)}")
    if args.folded:
        folded = collections.Counter()
        for comm, fr in selected:
            stack = ";".join([comm] + [demangled.get(f, f).replace(";", ":") for f in reversed(fr)])
            folded[stack] += 1
        with open(args.folded, "w") as handle:
            for stack, count in folded.items():
                handle.write(f"{stack} {count}\n")

if __name__ == "__main__":
    main()
