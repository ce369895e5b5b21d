#!/usr/bin/env python3
"""Sum the results of meson test runs: every Criterion test case and every
other meson test, plus the figures tests print for the record."""
import json
import re
import sys

passed = failed = 0
for log in sys.argv[1:]:
    build = log.split("/")[0]
    try:
        lines = open(log).read().splitlines()
    except OSError:
        print(f"test-summary: no log {log}")
        failed += 1
        continue
    for line in lines:
        t = json.loads(line)
        out = (t.get("stdout") or "") + "\n" + (t.get("stderr") or "")
        m = re.search(r"Synthesis: Tested: (\d+) \| Passing: (\d+) \| Failing: (\d+) \| Crashing: (\d+)", out)
        if m:
            passed += int(m.group(2))
            failed += int(m.group(1)) - int(m.group(2))
            if t["result"] != "OK" and int(m.group(1)) == int(m.group(2)):
                failed += 1
        else:
            passed += t["result"] == "OK"
            failed += t["result"] != "OK"
        for fig in re.findall(r"^\[[a-z0-9%-]+\] \d+ msgs.*$|^\[memory\].*$", out, re.M):
            print(f"  {build}: {fig}")
print(f"tests: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
