#!/usr/bin/env python3
"""Which functions make one profile of bench/auth-instructions.sh dearer than another.

Usage: bench/instructions-diff.py <base.callgrind> <other.callgrind> <requests per variant>
Prints, per function, the difference in its own (exclusive) instructions per request, largest
first. Needs callgrind_annotate (valgrind)."""
import re
import subprocess
import sys


def per_function(path):
    out = subprocess.run(["callgrind_annotate", "--threshold=100", "--auto=no", path],
                         capture_output=True, text=True, check=True).stdout
    costs = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+(.*)", line)
        if m:
            name = re.sub(r"\s*\[[^\]]*\]$", "", m.group(2))
            costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return costs


base, other, n = per_function(sys.argv[1]), per_function(sys.argv[2]), int(sys.argv[3])
diff = {f: (other.get(f, 0) - base.get(f, 0)) / n for f in set(base) | set(other)}
total = 0.0
for name, d in sorted(diff.items(), key=lambda kv: -abs(kv[1])):
    total += d
    if abs(d) >= 20:
        print(f"{d:+9.0f}  {name[:150]}")
print(f"{total:+9.0f}  total")
