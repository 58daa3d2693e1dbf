"""The report's page: a Jinja template (autoescaped) around the charts plotly rendered.

plotly's JavaScript bundle is inlined once in ``<head>``; the charts' own ``<script>`` blocks only
call ``Plotly.newPlot``. No fonts, styles or scripts come from the network.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import plotly.offline

from gw.report.build import InsightSection

__all__ = ["render_report"]

KIND_LABELS = {
    "TrendsQuery": "trend",
    "LifecycleQuery": "lifecycle",
    "RetentionQuery": "retention",
    "StickinessQuery": "stickiness",
    "FunnelsQuery": "funnel",
}

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="gw report">
<title>Insight report · {{ run_id }}</title>
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #212529; background: #f8f9fa; }
  header { background: #1b2a41; color: #fff; padding: 1.2rem 2rem; }
  header h1 { margin: 0 0 .3rem; font-size: 1.5rem; }
  header p { margin: .15rem 0; font-size: .9rem; opacity: .85; }
  header code { color: #ffe8a3; }
  nav, main { max-width: 1200px; margin: 0 auto; padding: 0 2rem; }
  nav { padding-top: 1rem; }
  nav h2 { font-size: 1rem; margin: .8rem 0 .3rem; }
  nav ul { columns: 2; margin: 0; padding-left: 1.2rem; font-size: .9rem; }
  section.project > h2 { border-bottom: 2px solid #1b2a41; padding-bottom: .3rem; margin-top: 2rem; }
  article { background: #fff; border: 1px solid #dee2e6; border-radius: 6px; padding: 1rem 1.2rem; margin: 1rem 0; }
  article h3 { margin: 0 0 .3rem; font-size: 1.15rem; }
  .kind { display: inline-block; font-size: .75rem; text-transform: uppercase; letter-spacing: .04em;
          background: #e7f5ff; color: #1864ab; border-radius: 3px; padding: .1rem .4rem; margin-left: .4rem; vertical-align: middle; }
  .meta { color: #6c757d; font-size: .85rem; margin: .2rem 0 .6rem; }
  .empty { color: #868e96; font-style: italic; }
  table { border-collapse: collapse; font-size: .85rem; width: 100%; margin-top: .6rem; }
  th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #e9ecef; }
  th { background: #f1f3f5; }
  details summary { cursor: pointer; font-weight: 600; margin-top: .6rem; }
  footer { max-width: 1200px; margin: 2rem auto; padding: 0 2rem; color: #868e96; font-size: .8rem; }
</style>
<script type="text/javascript">{{ plotly_js | safe }}</script>
</head>
<body>
<header>
  <h1>Insight report</h1>
  <p>{{ insight_count }} declared insights · {{ chart_count }} charts over {{ projects | length }} project(s) · run <code>{{ run_id }}</code></p>
  <p>published marts: <code>{{ published_db }}</code>{% if published_at %} (published {{ published_at }} UTC){% endif %}{% if run_date %} · run date {{ run_date }}{% endif %}</p>
  <p>generated {{ generated_at }} UTC by <code>gw report</code> · every number is what <code>gw insight ID --json</code> answers</p>
</header>
<nav>
{% for project_id, project_sections in projects %}
  <h2>{{ project_title(project_id) }}</h2>
  <ul>
  {% for section in project_sections %}
    <li><a href="#{{ section.anchor }}">{{ section.title }}</a> <span class="kind">{{ kind_label(section.result.kind) }}</span></li>
  {% endfor %}
  </ul>
{% else %}
  <p class="empty">No insights are declared: add YAML files to dbt_project/insights/ and run <code>gw report --rebuild</code>.</p>
{% endfor %}
</nav>
<main>
{% for project_id, project_sections in projects %}
<section class="project" id="project-{{ project_id }}">
  <h2>{{ project_title(project_id) }}</h2>
  {% for section in project_sections %}
  {% set result = section.result %}
  <article id="{{ section.anchor }}" data-insight-id="{{ result.insight_id }}" data-project-id="{{ result.project_id }}" data-kind="{{ result.kind }}">
    <h3>{{ section.title }} <span class="kind">{{ kind_label(result.kind) }}</span></h3>
    <p class="meta"><code>{{ result.insight_id }}</code> · by {{ result.interval }} · {{ result.date_from.strftime('%Y-%m-%d %H:%M') }} … {{ result.date_to.strftime('%Y-%m-%d %H:%M') }} (project time)</p>
    {% if section.description %}<p>{{ section.description }}</p>{% endif %}
    {% if section.chart_html %}
    <div class="chart">{{ section.chart_html | safe }}</div>
    {% else %}
    <p class="empty">No data in this range.</p>
    {% endif %}
    {% if result.kind == 'FunnelsQuery' %}
    <details class="dropped"{% if section.dropped_total and section.dropped_total <= 20 %} open{% endif %}>
      <summary>Who dropped off: {{ section.dropped_total }} {{ actor_word(result) }}</summary>
      {% if section.dropped %}
      <table>
        <thead><tr><th>did not reach</th>{% if section.dropped[0].breakdown is not none %}<th>breakdown</th>{% endif %}<th>{{ actor_word(result) }}</th><th>name</th><th>furthest step</th><th>first step at (UTC)</th><th>furthest step at (UTC)</th></tr></thead>
        <tbody>
        {% for actor in section.dropped %}
          <tr><td>{{ actor.dropped_before_step }}</td>{% if actor.breakdown is not none %}<td>{{ actor.breakdown }}</td>{% endif %}<td><code>{{ actor.actor_id }}</code></td><td>{{ actor.display_name or '' }}</td><td>{{ actor.reached_step }}</td><td>{{ when(actor.first_step_at) }}</td><td>{{ when(actor.furthest_step_at) }}</td></tr>
        {% endfor %}
        </tbody>
      </table>
      {% if section.dropped_total > section.dropped | length %}<p class="meta">… and {{ section.dropped_total - section.dropped | length }} more: <code>select * from marts.mart_insight_funnel_actors where insight_id = '{{ result.insight_id }}' and project_id = {{ result.project_id }} and dropped_off_at_step is not null</code></p>{% endif %}
      {% else %}
      <p class="empty">Nobody dropped off.</p>
      {% endif %}
    </details>
    {% endif %}
  </article>
  {% endfor %}
</section>
{% endfor %}
</main>
<footer>Group analytics warehouse · <code>gw report</code> · plotly {{ plotly_version }} (inlined; the file needs no network)</footer>
</body>
</html>
"""

_ENVIRONMENT = jinja2.Environment(
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
)


def render_report(
    sections: list[InsightSection],
    *,
    run_id: str,
    generated_at: datetime,
    published_db: Path,
    publish_state: dict[str, Any] | None,
    build_state: dict[str, Any] | None,
    project_names: dict[int, str],
) -> str:
    """The whole HTML page of the report."""
    by_project: dict[int, list[InsightSection]] = defaultdict(list)
    for section in sections:
        by_project[section.result.project_id].append(section)

    def project_title(project_id: int) -> str:
        name = project_names.get(project_id)
        return f"Project {project_id}: {name}" if name else f"Project {project_id}"

    def actor_word(result: Any) -> str:
        index = result.definition.get("aggregation_group_type_index")
        return "persons" if index is None else "groups"

    def when(moment: datetime | None) -> str:
        return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")

    return _ENVIRONMENT.from_string(_TEMPLATE).render(
        sections=sections,
        projects=sorted(by_project.items()),
        chart_count=sum(1 for section in sections if section.chart_html),
        insight_count=len({section.result.insight_id for section in sections}),
        run_id=run_id,
        generated_at=generated_at.strftime("%Y-%m-%d %H:%M:%S"),
        published_db=str(published_db),
        published_at=str((publish_state or {}).get("at") or "").replace("T", " ").split("+")[0],
        run_date=(build_state or {}).get("run_date"),
        plotly_js=plotly.offline.get_plotlyjs(),
        plotly_version=plotly.__version__,
        project_title=project_title,
        kind_label=lambda kind: KIND_LABELS.get(kind, kind),
        actor_word=actor_word,
        when=when,
    )
