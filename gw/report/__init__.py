"""``gw report``: a static HTML report of every declared insight, read from the published marts.

One file per run under ``$WAREHOUSE_HOME/reports/insights/`` (``<run id>.html``) and a copy of the
newest as ``latest.html``; the Airflow DAGs write it after every publish. See :mod:`gw.report.build`
for the files and :mod:`gw.report.charts` for what each insight kind is drawn as.
"""

from gw.report.build import (
    DroppedActor,
    InsightSection,
    ReportResult,
    collect_sections,
    latest_report,
    report_dir,
    report_run_id,
    summary_lines,
    write_report,
)

__all__ = [
    "DroppedActor",
    "InsightSection",
    "ReportResult",
    "collect_sections",
    "latest_report",
    "report_dir",
    "report_run_id",
    "summary_lines",
    "write_report",
]
