"""Prints the HIPAA figures the issue asks for at the end of the run:
endpoints covered by the RBAC matrix, audited endpoints / total, fuzz examples run."""

from __future__ import annotations

import shutil

from tests.hipaa import figures


def pytest_sessionstart(session) -> None:
    if not hasattr(session.config, "workerinput"):  # controller (or no xdist): start clean
        shutil.rmtree(figures.figures_dir(), ignore_errors=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if hasattr(config, "workerinput"):
        return
    rbac = figures.load("rbac")
    fuzz = figures.load("fuzz")
    api = figures.load("schemathesis")
    if not rbac and not fuzz and not api:
        return
    write = terminalreporter.write_line
    terminalreporter.section("HIPAA safeguards (tests/hipaa)")
    if rbac:
        from tests.hipaa.endpoint_policy import POLICY
        from tests.hipaa.urlwalk import url_endpoints

        total = len(url_endpoints())
        cells = sum(r["cells"] for r in rbac)
        patient = [r for r in rbac if r["patient_data"]]
        audited = [r for r in patient if r["audited"]]
        write(
            f"RBAC matrix: {len(rbac)} of {total} endpoints covered, {cells} "
            "endpoint x role x relation cells checked"
        )
        write(
            f"audit completeness: {len(audited)} / {len(patient)} endpoints touching patient "
            f"data write audit events; {len(rbac) - len(patient)} endpoints listed as not "
            f"touching patient data, with reasons ({len(POLICY)} entries in "
            "tests/hipaa/endpoint_policy.py)"
        )
        for row in rbac:
            if row.get("audit_gap"):
                write(f"  known audit gap (listed in endpoint_policy.py): {row['key']}")
        if len(rbac) < total:
            write(f"  {total - len(rbac)} URL patterns not exercised in this run")
    if fuzz:
        runs = sum(r["examples"] for r in fuzz)
        write(f"fuzz examples run: {runs} across {len(fuzz)} hypothesis properties")
        for row in fuzz:
            write(f"  {row['key']}: {row['examples']}")
    for row in api:
        write(
            f"schemathesis: {row['operations']} API operations, {row['examples']} examples as "
            f"{', '.join(row['identities'])}, {row['server_errors']} answered 5xx "
            f"({row['elapsed_s']} s)"
        )
