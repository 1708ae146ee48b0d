#!/usr/bin/env python3
"""Checks that the Grafana dashboard and the Prometheus rules name only what the hub exports.

Usage: check-monitoring.py METRICS_TEXT DASHBOARD_JSON RULES_YAML...   (scripts/check-monitoring.sh)
       check-monitoring.py --strip-annotations RULES_YAML > COPY        (for `promtool test rules`)

Every PromQL expression of the dashboard (panel targets, variable queries) and of the rules is
read for its selectors. Each metric name must be a sample name in METRICS_TEXT (a scrape of a
live hub's /metrics; a histogram's `_bucket`, `_sum` and `_count` are sample names there), or
one of the series Prometheus itself adds (`up`). Each label matcher with a literal value must
be met by some sample of that metric (`outcome="delivered"`, `state=~"open|half_open"`), except
the `job` and `instance` labels, which Prometheus adds at scrape time. An identifier the reader
does not know (a PromQL function it has not heard of, say) fails the check rather than slip by.
With --promtool, the dashboard's expressions, Grafana's variables replaced by sample values,
are also given to `promtool check rules` for their syntax.
Standard library only.
"""

import json
import re
import subprocess
import sys
import tempfile

# Series that Prometheus adds to every target's scrape.
SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
             "scrape_series_added"}
# Labels that Prometheus attaches at scrape time (the hub's text does not carry them).
TARGET_LABELS = {"job", "instance"}

AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
                "topk", "quantile", "limitk", "limit_ratio"}
FUNCTIONS = {
    "abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "day_of_month",
    "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp", "floor", "histogram_avg",
    "histogram_count", "histogram_fraction", "histogram_quantile", "histogram_stddev", "histogram_stdvar",
    "histogram_sum", "holt_winters", "double_exponential_smoothing", "hour", "idelta", "increase", "irate",
    "label_join", "label_replace", "ln", "log2", "log10", "minute", "month", "predict_linear", "rate", "resets",
    "round", "scalar", "sgn", "sort", "sort_desc", "sort_by_label", "sort_by_label_desc", "sqrt", "time",
    "timestamp", "vector", "year", "avg_over_time", "min_over_time", "max_over_time", "sum_over_time",
    "count_over_time", "quantile_over_time", "stddev_over_time", "stdvar_over_time", "last_over_time",
    "present_over_time", "mad_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin",
    "sinh", "tan", "tanh", "deg", "pi", "rad", "start", "end",
}
# Keywords followed by a parenthesised list of label names.
LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = LABEL_LISTS | {"bool", "and", "or", "unless", "offset", "atan2", "inf", "nan"}

IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
NUMBER = re.compile(r"0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?[a-zA-Z0-9]*")
GRAFANA_VARIABLE = re.compile(r"\$(?:\{[^}]*\}|\w+)")
MATCHER = re.compile(
    r"""\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)\s*(,|$)""")


class PromQLError(ValueError):
    pass


def skip_string(s, i):
    """The index just past the string literal opening at s[i]."""
    quote, i = s[i], i + 1
    while i < len(s):
        if s[i] == "\\" and quote != "`":
            i += 2
            continue
        if s[i] == quote:
            return i + 1
        i += 1
    raise PromQLError(f"unterminated string in {s!r}")


def skip_group(s, i, opening, closing):
    """The index just past the group opening at s[i] (strings inside skipped)."""
    depth = 0
    while i < len(s):
        c = s[i]
        if c in "\"'`":
            i = skip_string(s, i)
            continue
        if c == opening:
            depth += 1
        elif c == closing:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise PromQLError(f"unbalanced {opening}{closing} in {s!r}")


def unquote(literal):
    if literal[0] == "`":
        return literal[1:-1]
    if literal[0] == "'":
        literal = '"' + literal[1:-1].replace('\\\'', "'").replace('"', '\\"') + '"'
    return json.loads(literal)


def parse_matchers(body):
    """`a="x", b=~"y"` -> [("a", "=", "x"), ("b", "=~", "y")]."""
    matchers, pos = [], 0
    body = body.strip()
    while pos < len(body):
        m = MATCHER.match(body, pos)
        if not m:
            raise PromQLError(f"cannot read the label matchers {{{body}}}")
        matchers.append((m.group(1), m.group(2), unquote(m.group(3))))
        pos = m.end()
    return matchers


def selectors(expr):
    """The vector selectors of a PromQL expression: [(metric name, [(label, op, value)])]."""
    found, i, s = [], 0, expr
    while i < len(s):
        c = s[i]
        if c in "\"'`":
            i = skip_string(s, i)
        elif c == "[":
            i = skip_group(s, i, "[", "]")  # a range or a subquery's: durations only
        elif c == "{":
            raise PromQLError(f"a selector without a metric name in {expr!r}: name the metric")
        elif c == "$":
            m = GRAFANA_VARIABLE.match(s, i)
            i = m.end() if m else i + 1
        elif c.isdigit() or (c == "." and s[i + 1:i + 2].isdigit()):
            i = NUMBER.match(s, i).end()
        elif IDENT.match(s, i):
            name = IDENT.match(s, i).group(0)
            i += len(name)
            j = i
            while j < len(s) and s[j].isspace():
                j += 1
            following = s[j:j + 1]
            if name.lower() in KEYWORDS:
                if name.lower() in LABEL_LISTS and following == "(":
                    i = skip_group(s, j, "(", ")")
            elif following == "(" or (name in AGGREGATIONS and IDENT.match(s, j)
                                      and IDENT.match(s, j).group(0) in ("by", "without")):
                if name not in FUNCTIONS and name not in AGGREGATIONS:
                    raise PromQLError(f"unknown function {name}() in {expr!r}")
            elif following == "{":
                end = skip_group(s, j, "{", "}")
                found.append((name, parse_matchers(s[j + 1:end - 1])))
                i = end
            else:
                found.append((name, []))
        else:
            i += 1
    return found


def dashboard_expressions(dashboard):
    """(where, PromQL) of every panel target, rows' panels included, every annotation query and
    every query variable."""
    out = []

    def panels(items):
        for panel in items:
            for target in panel.get("targets", []):
                if target.get("expr"):
                    out.append((f"panel {panel.get('title')!r}", target["expr"]))
            panels(panel.get("panels", []))

    panels(dashboard.get("panels", []))
    for annotation in dashboard.get("annotations", {}).get("list", []):
        if annotation.get("expr"):
            out.append((f"annotation {annotation.get('name')!r}", annotation["expr"]))
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        query = query.get("query", "") if isinstance(query, dict) else query or ""
        # Grafana's helpers: label_values(selector, label), query_result(expr), metrics(regex).
        m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", query) or \
            re.fullmatch(r"\s*query_result\((.*)\)\s*", query)
        if m:
            out.append((f"variable {variable.get('name')!r}", m.group(1)))
        elif not re.fullmatch(r"\s*(label_values\(\s*\w+\s*\)|label_names\(\)|metrics\(.*\))?\s*", query):
            raise PromQLError(f"cannot read the query of variable {variable.get('name')!r}: {query!r}")
    return out


def rule_expressions(path):
    """(where, PromQL) of each rule of a rule file, read without a YAML library: `expr:` as a
    plain or quoted one-line scalar, or a `|`/`>` block. Checked against the number of rules."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, names = [], []
    for n, line in enumerate(lines):
        m = re.match(r"^\s*-?\s*(alert|record):\s*(\S+)", line)
        if m:
            names.append(m.group(2))
        m = re.match(r"^(\s*)(?:-\s+)?expr:\s*(.*?)\s*$", line)
        if not m:
            continue
        indent, rest = len(m.group(1)), m.group(2)
        if re.fullmatch(r"[|>][+-]?", rest):
            block = []
            for following in lines[n + 1:]:
                if following.strip() and len(following) - len(following.lstrip()) <= indent:
                    break
                block.append(following.strip())
            expr = "\n".join(block).strip()
        elif rest[:1] in "\"'":
            expr = unquote(rest) if rest[0] == '"' else rest[1:-1].replace("''", "'")
        else:
            expr = re.sub(r"\s+#.*$", "", rest)
        where = names[-1] if names else f"line {n + 1}"
        out.append((f"rule {where}", expr))
    if len(out) != len(names):
        raise PromQLError(f"{path}: read {len(out)} expressions for {len(names)} rules")
    return out


def strip_annotations(path):
    """The rule file without its `annotations:` blocks."""
    out, skip = [], None
    for line in open(path, encoding="utf-8").read().split("\n"):
        if skip is not None:
            if not line.strip() or len(line) - len(line.lstrip()) > skip:
                continue
            skip = None
        m = re.match(r"^(\s*)annotations:\s*$", line)
        if m:
            skip = len(m.group(1))
            continue
        out.append(line)
    return "\n".join(out)


SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+\S+(\s+\S+)?$")


def exported(text):
    """{sample name: [label dicts]} of a Prometheus text exposition."""
    samples = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise PromQLError(f"cannot read the sample line {line!r}")
        labels = {k: v for k, _, v in parse_matchers(m.group(3) or "")}
        samples.setdefault(m.group(1), []).append(labels)
    return samples


def problems_of(where, expr, samples):
    problems = []
    for name, matchers in selectors(expr):
        if name in SYNTHETIC:
            continue
        if name not in samples:
            problems.append(f"{where}: {name} is not exported by the hub")
            continue
        for label, op, value in matchers:
            if label in TARGET_LABELS or "$" in value:
                continue
            values = {s[label] for s in samples[name] if label in s}
            if op == "=":
                ok = value in values
            elif op == "=~":
                ok = any(re.fullmatch(value, v) for v in values)
            else:  # != and !~ only need the label to exist
                ok = bool(values)
            if not ok:
                problems.append(f"{where}: no {name} sample has {label}{op}{json.dumps(value)} "
                                f"(its {label} values: {sorted(values) or 'none'})")
    return problems


def syntax_check(promtool, expressions):
    """`promtool check rules` on the dashboard's expressions as recording rules."""
    def concrete(expr):
        expr = re.sub(r"\$\{?__(rate_interval|interval|range)\}?", "5m", expr)
        return GRAFANA_VARIABLE.sub(".*", expr)
    rules = [{"record": f"dashboard:expression_{n}", "expr": concrete(e)} for n, (_, e) in enumerate(expressions)]
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
        json.dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)  # JSON is YAML
        f.flush()
        done = subprocess.run([promtool, "check", "rules", f.name], capture_output=True, text=True)
    if done.returncode != 0:
        named = {int(n) for n in re.findall(r"dashboard:expression_(\d+)", done.stdout + done.stderr)}
        listing = "".join(f"  expression_{n} is {where}: {expr}\n"
                          for n, (where, expr) in enumerate(expressions) if n in named)
        return [f"promtool rejects a dashboard expression:\n{done.stdout}{done.stderr}{listing}"]
    return []


def self_test():
    """The reader on expressions whose answer is known (a broken reader must not pass all)."""
    cases = {
        'sum by (le) (rate(a_bucket{job=~"$job", x="1"}[$__rate_interval]))': [("a_bucket", [("job", "=~", "$job"), ("x", "=", "1")])],
        "histogram_quantile(0.99, sum(rate(b[5m])) by (le)) > 1e-3": [("b", [])],
        'max by (job) (c) > 0 and on (job) sum without (instance) (d offset 15m) == 0 unless e{s!="x,}"}':
            [("c", []), ("d", []), ("e", [("s", "!=", "x,}")])],
        'time() - f > 2 * 3600 and label_replace(g, "dst", "$1", "src", "(.*)")': [("f", []), ("g", [])],
        "max_over_time(h[1h:5m]) / ignoring (state) group_left i": [("h", []), ("i", [])],
    }
    for expr, want in cases.items():
        got = selectors(expr)
        assert got == want, f"self-test: {expr!r} read as {got}, not {want}"
    for bad in ("rates(a[5m])", '{__name__="a"}'):
        try:
            selectors(bad)
        except PromQLError:
            continue
        raise AssertionError(f"self-test: {bad!r} was accepted")


def main(argv):
    if argv[:1] == ["--strip-annotations"] and len(argv) == 2:
        sys.stdout.write(strip_annotations(argv[1]))
        return 0
    promtool = None
    if argv[:1] == ["--promtool"]:
        promtool, argv = argv[1], argv[2:]
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    self_test()
    metrics_path, dashboard_path, rule_paths = argv[0], argv[1], argv[2:]
    samples = exported(open(metrics_path, encoding="utf-8").read())
    dashboard = dashboard_expressions(json.load(open(dashboard_path, encoding="utf-8")))
    expressions = dashboard + [e for path in rule_paths for e in rule_expressions(path)]
    problems = [p for where, expr in expressions for p in problems_of(where, expr, samples)]
    if promtool:
        problems += syntax_check(promtool, dashboard)
    names = sorted({name for _, expr in expressions for name, _ in selectors(expr)})
    print(f"{len(dashboard)} dashboard and {len(expressions) - len(dashboard)} rule expressions name "
          f"{len(names)} series: {', '.join(names)}")
    unused = sorted({n for n in samples if n.startswith("ih_")} - set(names))
    if unused:
        print(f"exported but not used by the dashboard or the rules: {', '.join(unused)}")
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in the dashboard or the rules (above)",
              file=sys.stderr)
        return 1
    print("every series and label value they name is exported")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
