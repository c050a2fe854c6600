#!/usr/bin/env python3
"""The report of scripts/gpu-check.sh: PREFIX.json and PREFIX.md from what
the check recorded (status.tsv, each lpattn-gpu-run --json output, the
sanitizer logs, the speed benchmark's PREFIX-speed.json), and a summary
table on stdout. The checks: the cases (O), check (a) the P cast bit for
bit (the debug artifacts' P dumps, kind "pcast"), the sink sweep, the
sanitizers and speed. Exit status 0 only if every check passed (a sanitizer that
is not installed is SKIPPED, not failed). Standard library only.
"""
import argparse
import json
import os
import subprocess
import sys
import time

OK = ("PASS", "SKIPPED")


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fmt(x, spec=".3e"):
    if x is None:
        return "-"
    if isinstance(x, float):
        return format(x, spec)
    return str(x)


def md_text(text):
    """Text for a Markdown table cell."""
    return str(text).replace("|", "\\|")


def commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--gpu", default="unknown")
    ap.add_argument("--arch", default="unknown")
    ap.add_argument("--seconds", type=int, default=0)
    args = ap.parse_args()

    manifest = load(os.path.join(args.cases, "manifest.json")) or {}
    rows = []
    with open(os.path.join(args.work, "status.tsv")) as f:
        for line in f:
            kind, name, status, detail = (line.rstrip("\n").split("\t") + [""])[:4]
            rows.append({"kind": kind, "name": name, "status": status,
                         "detail": detail})

    cases, sinks, pcast = [], [], []
    for r in rows:
        if r["kind"] == "pcast":
            run = load(os.path.join(args.work, "runs",
                                    r["name"].replace("/", "_") + ".json"))
            res = run["results"][0] if run and run.get("results") else {}
            dump = res.get("p_dump", {})
            pcast.append({"name": r["name"], "status": r["status"],
                          "detail": r["detail"], "p": dump.get("p"),
                          "entries": dump.get("entries"),
                          "checked": dump.get("checked"),
                          "mismatches": dump.get("mismatches"),
                          "unwritten": dump.get("unwritten"),
                          "first_mismatches": dump.get("first_mismatches"),
                          "o_checked": "max_abs_diff_cpu" in res,
                          "dump_dir": os.path.join(args.work, "pdump",
                                                   r["name"])})
            continue
        if r["kind"] not in ("case", "sinks"):
            continue
        run = load(os.path.join(args.work, "runs",
                                r["name"].replace("/", "_") + ".json"))
        res = run["results"][0] if run and run.get("results") else {}
        cpu = res.get("cpu", {})
        entry = {"name": r["name"], "status": r["status"],
                 "detail": r["detail"],
                 "max_abs_diff_cpu": res.get("max_abs_diff_cpu"),
                 "max_diff_ulps": res.get("max_diff_ulps"),
                 "num_outside_tolerance": res.get("num_outside_tolerance"),
                 "worst_tolerance_ratio": res.get("worst_tolerance_ratio"),
                 "mse_gpu": res.get("mse"), "mse_cpu": cpu.get("mse"),
                 "mse_ratio": res.get("mse_ratio"),
                 "max_abs_error_gpu": res.get("max_abs_error"),
                 "max_abs_error_cpu": cpu.get("max_abs_error"),
                 "collapse_gpu": res.get("collapse_fraction")
                 if res.get("positive", -1) >= 0 else None,
                 "collapse_cpu": cpu.get("collapse_fraction"),
                 "kernel_seconds": res.get("seconds")}
        (sinks if r["kind"] == "sinks" else cases).append(entry)

    speed = load(args.prefix + "-speed.json")
    sanitizer = [r for r in rows if r["kind"] == "sanitizer"]
    failed = [r for r in rows if r["status"] not in OK]
    passed = not failed and any(r["kind"] == "case" for r in rows)
    report = {
        "format": "lpattn-gpu-check-report", "version": 1,
        "gpu": args.gpu, "arch": args.arch,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "commit": commit(), "cases_commit": manifest.get("commit"),
        "tiles": manifest.get("tiles"), "seconds": args.seconds,
        "passed": passed, "checks": rows, "cases": cases, "pcast": pcast,
        "sinks": sinks,
        "speed": speed,
    }
    with open(args.prefix + ".json", "w") as f:
        json.dump(report, f, indent=1)

    md = ["# GPU check: %s (%s), %s" % (args.gpu, args.arch, report["date"]),
          "",
          "`bash scripts/gpu-check.sh` at commit %s (cases prepared at %s, "
          "tiles %s), %d s. Rule and tolerance: "
          "[docs/gpu-check.md](../../docs/gpu-check.md). Result: **%s**."
          % (report["commit"], report["cases_commit"], report["tiles"],
             args.seconds, "PASS" if passed else "FAIL"), ""]
    md += ["## Cases (O vs the CPU emulation and vs float64)", "",
           "| case | status | max\\|gpu-cpu\\| | ulps | worst/tol | MSE gpu "
           "| MSE cpu | MSE ratio | max\\|err\\| gpu | max\\|err\\| cpu | "
           "detail |", "|" + "---|" * 11]
    for c in cases:
        md.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            c["name"], c["status"], fmt(c["max_abs_diff_cpu"]),
            fmt(c["max_diff_ulps"], ".3g"), fmt(c["worst_tolerance_ratio"], ".3g"),
            fmt(c["mse_gpu"]), fmt(c["mse_cpu"]), fmt(c["mse_ratio"], ".4f"),
            fmt(c["max_abs_error_gpu"]), fmt(c["max_abs_error_cpu"]),
            md_text(c["detail"])))
    md += ["", "## (a) The P cast bit for bit (debug P dump vs the RNE cast "
           "of P * S)", "",
           "| artifact | status | p | checked | mismatches | unwritten | "
           "first mismatch | O checked | detail |", "|" + "---|" * 9]
    for c in pcast:
        first = (c["first_mismatches"] or [None])[0]
        md.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            c["name"], c["status"], fmt(c["p"]), fmt(c["checked"]),
            fmt(c["mismatches"]), fmt(c["unwritten"]),
            "-" if not first else "row %d key %d: %r -> 0x%02x, got 0x%02x" % (
                first["row"], first["key"], first["input"], first["expected"],
                first["got"]),
            "yes" if c["o_checked"] else "no", md_text(c["detail"])))
    md += ["", "## P-Cast sink sweep (MSE and collapse within 5 % of the "
           "CPU's)", "",
           "| variant/delta | status | MSE gpu | MSE cpu | ratio | collapse "
           "gpu | collapse cpu | detail |", "|" + "---|" * 8]
    for s in sinks:
        md.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            s["name"], s["status"], fmt(s["mse_gpu"]), fmt(s["mse_cpu"]),
            fmt(s["mse_ratio"], ".4f"), fmt(s["collapse_gpu"], ".4f"),
            fmt(s["collapse_cpu"], ".4f"), md_text(s["detail"])))
    md += ["", "## compute-sanitizer", "", "| tool / case | status | detail |",
           "|---|---|---|"]
    for r in sanitizer:
        md.append("| %s | %s | %s |" % (r["name"], r["status"],
                                        md_text(r["detail"])))
    md += ["", "## Speed", ""]
    speed_md = args.prefix + "-speed.md"
    if os.path.exists(speed_md):
        md.append("See [%s](%s)." % (os.path.basename(speed_md),
                                     os.path.basename(speed_md)))
    else:
        md.append("(not run)")
    md.append("")
    with open(args.prefix + ".md", "w") as f:
        f.write("\n".join(md))

    # The summary on stdout.
    print()
    print("== GPU check summary: %s (%s), %d s ==" % (args.gpu, args.arch,
                                                     args.seconds))
    print("%-46s %-13s %s" % ("check", "status", "detail"))
    for r in rows:
        label = r["kind"] if r["name"] == "-" else "%s %s" % (r["kind"], r["name"])
        print("%-46s %-13s %s" % (label[:46], r["status"], r["detail"][:100]))
    counts = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    print(", ".join("%d %s" % (n, s) for s, n in sorted(counts.items())))
    print("wrote %s.json and %s.md" % (args.prefix, args.prefix))
    if passed:
        print("GPU CHECK PASSED")
        return 0
    print("GPU CHECK FAILED (%d of %d checks)" % (len(failed), len(rows))
          if failed else "GPU CHECK FAILED (no case ran)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
