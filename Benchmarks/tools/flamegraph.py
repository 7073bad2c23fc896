#!/usr/bin/env python3
"""Minimal flame graph SVG from folded stacks ("a;b;c COUNT" lines), for machines without
flamegraph.pl or inferno. Usage: flamegraph.py folded.txt > out.svg"""
import collections, html, sys

def main():
    root = {"name": "all", "count": 0, "children": collections.OrderedDict()}
    for line in open(sys.argv[1]):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        count = int(count)
        node = root
        node["count"] += count
        for frame in stack.split(";"):
            node = node["children"].setdefault(frame, {"name": frame, "count": 0, "children": collections.OrderedDict()})
            node["count"] += count
    width, row, total = 1600.0, 16, max(1, root["count"])
    rects = []
    def walk(node, x, depth):
        rects.append((x, depth, node))
        child_x = x
        for child in sorted(node["children"].values(), key=lambda n: n["name"]):
            walk(child, child_x, depth + 1)
            child_x += child["count"] * width / total
    walk(root, 0.0, 0)
    depth_max = max(d for _, d, _ in rects) + 1
    height = depth_max * row + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{int(width)}" height="{height}" font-family="monospace" font-size="11">',
           f'<text x="4" y="14">perf cpu-clock flame graph, {total} samples (hover for names)</text>']
    for x, depth, node in rects:
        w = node["count"] * width / total
        if w < 0.5:
            continue
        y = height - (depth + 1) * row
        hue = 20 + (hash(node["name"]) % 40)
        label = html.escape(node["name"])
        percent = 100.0 * node["count"] / total
        out.append(f'<g><title>{label} ({node["count"]} samples, {percent:.2f}%)</title>'
                   f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}" fill="hsl({hue},85%,60%)"/>')
        chars = int(w / 7)
        if chars >= 3:
            text = node["name"] if len(node["name"]) <= chars else node["name"][: chars - 1] + "…"
            out.append(f'<text x="{x + 2:.1f}" y="{y + 11}">{html.escape(text)}</text>')
        out.append("</g>")
    out.append("</svg>")
    print("\n".join(out))

if __name__ == "__main__":
    main()
