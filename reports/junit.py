"""junit.xml from the event stream, for when pytest could not write its own (a run killed midway).

During a run, pytest's --junitxml writes junit.xml (the plugin points it into the report folder, family
xunit1, with per-testcase properties). This writes the same shape from events.jsonl — one testcase per
case × client × repetition, named as the pytest item is — so that a crashed run still hands CI its JUnit:

    /usr/bin/python3 -m reports.build reports/out --junit
"""
from __future__ import annotations

import socket
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from .expectations import EXPECTED, UNEXPECTED_PASS
from .model import Run, item_name

CLASSNAME = "tests.conformance.test_conformance"


def build(run: Run) -> ET.Element:
    suite = ET.Element("testsuite", name="pytest", hostname=socket.gethostname(),
                       timestamp=time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(run.time_start or time.time())))
    counts = {"tests": 0, "failures": 0, "skipped": 0, "errors": 0}
    total = 0.0
    n_rep = max((len(r.reps) for r in run.results), default=1)
    for r in run.results:
        for rep in r.reps:
            v = rep.verdict
            dur = float(v.get("duration") or 0)
            total += dur
            tc = ET.SubElement(suite, "testcase", classname=CLASSNAME,
                               name=f"test_case[{item_name(r.client, r.case, rep.repeat, n_rep)}]", time=f"{dur:.3f}")
            props = ET.SubElement(tc, "properties")
            for k, val in (("client", r.client), ("version", v.get("version") or run.clients.get(r.client, "")),
                           ("case", r.case), ("status", rep.status), ("expected", r.expected),
                           ("rule", v.get("rule") or ""), ("spec", v.get("spec") or ""),
                           ("token", v.get("token") or ""), ("rebuilt", "from events.jsonl")):
                ET.SubElement(props, "property", name=k, value=_clean(str(val)))
            counts["tests"] += 1
            msg = _clean(f"{rep.status}: {v.get('message') or ''}")
            if rep.status == "N/A" and rep.outcome == EXPECTED:
                ET.SubElement(tc, "skipped", type="pytest.skip", message=_clean(f"N/A: {v.get('message') or ''}"))
                counts["skipped"] += 1
            elif rep.outcome == EXPECTED and rep.status not in ("PASS", "NON-STRICT", "N/A"):
                ET.SubElement(tc, "skipped", type="pytest.xfail", message=_clean(f"expected {r.expected}: "
                                                                                 f"{v.get('message') or ''}"))
                counts["skipped"] += 1
            elif rep.outcome == EXPECTED or rep.outcome == UNEXPECTED_PASS and not run.info.get("strict_expectations"):
                pass
            else:
                f = ET.SubElement(tc, "failure", message=msg[:1000])
                f.text = msg
                counts["failures"] += 1
    for k, val in counts.items():
        suite.set(k, str(val))
    suite.set("time", f"{total:.3f}")
    root = ET.Element("testsuites")
    root.append(suite)
    return root


def write(run: Run, path) -> Path:
    path = Path(path)
    tree = ET.ElementTree(build(run))
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return path


def _clean(s: str) -> str:
    # The characters XML 1.0 cannot carry (as pytest's bin_xml_escape does, shown as #xNN).
    return "".join(ch if ch in "\t\n\r" or 0x20 <= ord(ch) < 0xD800 or 0xE000 <= ord(ch) <= 0xFFFD
                   or ord(ch) >= 0x10000 else f"#x{ord(ch):02X}" for ch in s)
